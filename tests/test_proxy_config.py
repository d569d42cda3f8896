"""deploy/nginx/run renders the proxy's one template: every name filled in, limits from GLOWWORM_MAX_UPLOAD_MB, the
media location internal, and settings that would break the configuration refused. (.ci/run starts the real nginx.)"""

import re
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

import pytest

from tests.conftest import ROOT

loader = SourceFileLoader("nginx_run", str(ROOT / "deploy/nginx/run"))
nginx_run = module_from_spec(spec_from_loader(loader.name, loader))
loader.exec_module(nginx_run)


def location(config: str, name: str) -> str:
    found = re.search(rf"location {re.escape(name)} \{{([^}}]*)\}}", config)
    assert found, name
    return found.group(1)


def test_the_container_defaults_render_completely():
    config = nginx_run.render({})
    assert not re.search(r"\$\{[A-Z_]+\}", config)
    assert "listen 443 ssl http2;" in config and "server web:8000;" in config
    assert "return 301 https://$host$request_uri;" in config  # no port suffix on 443
    assert "user www-data glowworm;" in config


def test_body_limits_follow_the_upload_setting():
    config = nginx_run.render({"GLOWWORM_MAX_UPLOAD_MB": "50"})
    assert "client_max_body_size 51m;" in location(config, "= /api/images/")
    assert "client_max_body_size 1020m;" in location(config, "= /upload/")
    assert "client_max_body_size 1m;" in config


def test_media_is_only_reachable_by_x_accel_redirect():
    config = nginx_run.render({"GLOWWORM_MEDIA_ACCEL_PREFIX": "/internal-files/", "PROXY_MEDIA_ROOT": "/m/"})
    media = location(config, "/internal-files/")
    assert "internal;" in media and "alias /m/;" in media


def test_websockets_get_the_upgrade_headers_and_the_forwarded_ones():
    sockets = location(nginx_run.render({}), "/ws/")
    for header in ("Upgrade $http_upgrade", 'Connection "upgrade"', "X-Forwarded-For", "X-Forwarded-Proto", "Host"):
        assert f"proxy_set_header {header}" in sockets


def test_a_port_other_than_443_is_kept_in_the_redirect():
    config = nginx_run.render({"PROXY_HTTPS_LISTEN": "127.0.0.1:8443"})
    assert "return 301 https://$host:8443$request_uri;" in config


@pytest.mark.parametrize(
    "environ",
    [
        {"GLOWWORM_MAX_UPLOAD_MB": "lots"},
        {"GLOWWORM_MAX_UPLOAD_MB": "0"},
        {"GLOWWORM_MEDIA_ACCEL_PREFIX": "protected-media/"},
        {"GLOWWORM_MEDIA_ACCEL_PREFIX": "/a; b/"},
        {"PROXY_UPSTREAM": "web:8000; include /etc/passwd"},
        {"PROXY_STATIC_ROOT": "/srv/static }"},
    ],
)
def test_settings_that_would_break_the_configuration_are_refused(environ):
    with pytest.raises(nginx_run.BadSetting):
        nginx_run.render(environ)
