"""Headers, HTTPS settings, no inline script, login rate limiting, and pages that work under the CSP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


def upload(client) -> int:
    with open(DATA / "formats" / "hopper.jpg", "rb") as handle:
        return client.post("/api/images/", {"file": handle}).json()["id"]


def test_pages_send_csp_nosniff_referrer_policy_and_frame_denial(client_logged_in):
    response = client_logged_in.get("/")
    assert response.status_code == 200
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data: blob:"  # placeholders are data: URIs
    assert csp["connect-src"] == "'self' ws://testserver wss://testserver"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    # Also on redirects and on the login page an anonymous visitor sees.
    assert "Content-Security-Policy" in Client().get("/login/")


def test_rq_dashboard_alone_may_run_its_inline_scripts(django_user_model, redis_conn):
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "correct horse battery"))
    assert "script-src 'self' 'unsafe-inline'" in staff.get("/admin/rq/")["Content-Security-Policy"]
    assert "script-src 'self';" in staff.get("/admin/")["Content-Security-Policy"]


INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def test_our_pages_have_no_inline_script(client_logged_in, redis_conn):
    photo_id = upload(client_logged_in)
    from processing import jobs

    jobs.render_now(photo_id)
    pages = ["/", f"/photos/{photo_id}/", "/albums/", "/duplicates/"]
    for url in pages:
        html = client_logged_in.get(url).content.decode()
        for attributes in SCRIPT_TAG.findall(html):
            assert "src=" in attributes or 'type="application/json"' in attributes, (url, attributes)
        assert not INLINE_HANDLER.search(html), (url, INLINE_HANDLER.search(html).group(0))
        assert "javascript:" not in html.lower(), url
    html = Client().get("/login/").content.decode()
    assert all("src=" in attributes for attributes in SCRIPT_TAG.findall(html))


def settings_in_a_fresh_process(**env) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps({name: "
        "getattr(settings, name) for name in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_HTTPONLY')}))"
    )
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="glowworm.settings", SECRET_KEY="x" * 50, **env)
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.live
def test_https_setting_turns_on_secure_cookies_and_hsts():
    assert settings_in_a_fresh_process(GLOWWORM_HTTPS="true") == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_HTTPONLY": True,
    }
    plain = settings_in_a_fresh_process(GLOWWORM_HTTPS="false")
    assert plain["SECURE_HSTS_SECONDS"] == 0 and plain["SESSION_COOKIE_SECURE"] is False


def test_hsts_header_is_sent_over_https_when_enabled(client_logged_in, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    assert client_logged_in.get("/", secure=True)["Strict-Transport-Security"].startswith("max-age=31536000")


def login(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_is_blocked_after_repeated_failures_for_that_user_and_address(user, settings):
    settings.GLOWWORM_LOGIN_FAILURES = 3
    client = Client()
    for _ in range(3):
        assert login(client, "alice", "wrong").status_code == 200  # the form again, with its error
    blocked = login(client, "alice", "correct horse battery")  # even the right password now waits
    assert blocked.status_code == 429
    assert "Too many failed log-in attempts" in blocked.content.decode()
    assert blocked["Retry-After"] == str(settings.GLOWWORM_LOGIN_WINDOW)
    assert "_auth_user_id" not in client.session

    # Someone else's failures never lock the owner out from their own address.
    assert login(Client(), "alice", "correct horse battery", address="10.0.0.2").status_code == 302


def test_a_successful_login_clears_the_failures(user, settings):
    settings.GLOWWORM_LOGIN_FAILURES = 3
    for _ in range(2):
        login(Client(), "alice", "wrong")
    assert login(Client(), "alice", "correct horse battery").status_code == 302
    for _ in range(2):
        assert login(Client(), "alice", "wrong").status_code == 200
    assert login(Client(), "alice", "correct horse battery").status_code == 302


def test_one_address_guessing_many_usernames_is_blocked(user, settings):
    settings.GLOWWORM_LOGIN_FAILURES_PER_IP = 5
    for number in range(5):
        assert login(Client(), f"user{number}", "wrong").status_code == 200
    assert login(Client(), "alice", "correct horse battery").status_code == 429
    assert login(Client(), "alice", "correct horse battery", address="10.9.9.9").status_code == 302


def test_admin_login_is_rate_limited_too(user, settings):
    settings.GLOWWORM_LOGIN_FAILURES = 2
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.3")
    response = client.post("/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 429


@pytest.mark.browser
@pytest.mark.live
def test_pages_work_under_the_csp_in_a_real_browser(logged_in_page, live):
    """No CSP violation while the library loads, connects its websocket, uploads and shows a live thumbnail."""
    page = logged_in_page
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.reload()  # console messages are collected from the first byte of this load
    page.evaluate(
        "() => document.addEventListener('securitypolicyviolation', e => "
        "(window.__violations ||= []).push(e.violatedDirective + ' ' + e.blockedURI))"
    )
    page.wait_for_function("() => document.querySelector('main[data-live]') !== null")
    page.set_input_files("#upload-input", [str(DATA / "formats" / "hopper.jpg")])
    try:
        page.locator("#grid figure[data-status='ready'] img.tile-image").first.wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(live.output()) from None
    photo_id = page.locator("#grid figure[data-photo-id]").first.get_attribute("data-photo-id")
    page.goto(f"/photos/{photo_id}/")
    page.wait_for_load_state("networkidle")
    assert violations == []
    assert page.evaluate("window.__violations || []") == []
