"""Headers, HTTPS settings, no inline script, login rate limiting, and pages that work under the CSP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from gallery import security
from gallery.proxies import TrustedProxies, TrustedProxyMiddleware, client_network
from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.django_db


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


def test_login_is_blocked_after_repeated_failures_for_that_user_and_address(user, settings, monkeypatch):
    settings.GLOWWORM_LOGIN_FAILURES = 3
    client = Client()
    for _ in range(3):
        assert login(client, "alice", "wrong").status_code == 200  # the form again, with its error
    blocked = login(client, "alice", "correct horse battery")  # even the right password now waits
    assert blocked.status_code == 429
    assert "Too many failed log-in attempts" in blocked.content.decode()
    assert blocked["Retry-After"] == str(settings.GLOWWORM_LOGIN_WINDOW)
    assert "_auth_user_id" not in client.session

    # From elsewhere the owner is delayed by the account's back-off (30 s after the third failure), not locked out.
    elsewhere = login(Client(), "alice", "correct horse battery", address="10.0.0.2")
    assert elsewhere.status_code == 429 and 0 < int(elsewhere["Retry-After"]) <= security.BACKOFF_BASE
    later = time.time() + security.BACKOFF_BASE + 1
    monkeypatch.setattr(security.time, "time", lambda: later)
    assert login(Client(), "alice", "correct horse battery", address="10.0.0.2").status_code == 302
    assert login(Client(), "alice", "correct horse battery").status_code == 429  # that pair waits out the window


def test_failures_from_many_addresses_slow_one_account_down_with_a_growing_back_off(user, settings):
    settings.GLOWWORM_TRUSTED_PROXIES = "127.0.0.1"
    answers = []
    for number in range(8):  # eight spoofed client addresses, as a botnet would have
        response = Client().post(
            "/login/",
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number}",
        )
        answers.append(response.status_code)
    assert answers[:5] == [200] * 5 and answers[5:] == [429] * 3
    waits = [security.login_wait("alice", f"203.0.113.{n}") for n in range(2)]
    assert 0 < waits[0] <= security.BACKOFF_BASE and waits == sorted(waits, reverse=True)


def test_the_back_off_grows_with_each_failure_and_stops_at_the_window(user, settings):
    request = RequestFactory().post("/login/", REMOTE_ADDR="192.0.2.1")
    waits = []
    for _ in range(12):
        security.count_login_failure(None, {"username": "alice"}, request=request)
        waits.append(security.login_wait("alice", "192.0.2.99"))
    limit = settings.GLOWWORM_LOGIN_FAILURES
    assert waits[: limit - 1] == [0] * (limit - 1)
    assert waits[limit - 1] == pytest.approx(security.BACKOFF_BASE, abs=1)
    assert waits[limit] == pytest.approx(2 * security.BACKOFF_BASE, abs=1)
    assert waits[-1] == pytest.approx(settings.GLOWWORM_LOGIN_WINDOW, abs=1)


def test_forwarded_headers_count_only_from_trusted_proxies(user, settings):
    settings.GLOWWORM_LOGIN_FAILURES_PER_IP = 3
    spoofed = {"REMOTE_ADDR": "10.1.1.1", "HTTP_X_FORWARDED_PROTO": "https"}
    for number in range(3):  # no trusted proxies: the header is ignored, all three come from 10.1.1.1
        Client().post(
            "/login/", {"username": f"u{number}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"1.2.3.{number}", **spoofed
        )
    assert Client().post("/login/", {"username": "alice", "password": "x"}, **spoofed).status_code == 429
    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.1.1.1")
    TrustedProxyMiddleware(lambda r: None)(request)
    assert not request.is_secure()

    settings.GLOWWORM_TRUSTED_PROXIES = "10.0.0.0/8"
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7, 10.2.2.2", REMOTE_ADDR="10.1.1.1"
    )
    TrustedProxyMiddleware(lambda r: None)(request)
    assert request.is_secure() and request.META["REMOTE_ADDR"] == "192.0.2.7"  # the first untrusted from the right


def test_proxy_settings_parse_cidrs_and_hop_counts():
    assert TrustedProxies.parse("2").client("10.0.0.1", "6.6.6.6, 192.0.2.7, 10.9.9.9") == "192.0.2.7"
    assert TrustedProxies.parse("1").client("10.0.0.1", "6.6.6.6, 192.0.2.7") == "192.0.2.7"
    assert TrustedProxies.parse("").client("10.0.0.1", "192.0.2.7") == "10.0.0.1"
    assert TrustedProxies.parse("::1, 10.0.0.0/8").client("::1", "2001:db8::5") == "2001:db8::5"
    with pytest.raises(ImproperlyConfigured, match="GLOWWORM_TRUSTED_PROXIES"):
        TrustedProxies.parse("10.0.0.0/8, proxy.example")


def test_ipv6_clients_are_counted_by_their_64_prefix():
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("::ffff:192.0.2.1") == "192.0.2.1"


@pytest.mark.live
def test_the_old_proxy_setting_fails_and_names_the_new_one():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="glowworm.settings", SECRET_KEY="x", GLOWWORM_BEHIND_PROXY="true"),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode != 0 and "GLOWWORM_TRUSTED_PROXIES" in result.stderr


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
