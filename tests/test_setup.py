"""First account, the admin from the environment, settings parsing, and /healthz."""

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from gallery import first_account
from gallery.models import SetupToken
from glowworm.settings import database_from_url, parse_sizes
from tests.conftest import ROOT

FIRST = {"username": "owner", "password1": "a long pass phrase", "password2": "a long pass phrase"}


@pytest.mark.django_db
def test_without_the_setup_token_nobody_claims_a_fresh_instance(client):
    for url in ("/", "/api/images/", "/frames/", "/admin/", "/login/"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/setup/"), url
    locked = client.get("/setup/")
    assert locked.status_code == 403
    assertContains(locked, "<h1>This Glowworm is not set up yet</h1>", status_code=403, html=True)
    assertContains(locked, "python manage.py setup_url", status_code=403)
    assertNotContains(locked, 'name="password1"', status_code=403)  # no form to fill in without the link
    assert client.get("/setup/?token=guess").status_code == 403
    first_account.setup_token()  # the server has made one, but this visitor does not know it
    assert client.post("/setup/", FIRST).status_code == 403
    assert client.post("/setup/?token=nope", dict(FIRST, token="nope")).status_code == 403
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_the_setup_link_creates_the_first_account_once(client):
    token = first_account.setup_token()
    page = client.get(f"/setup/?token={token}")
    assertContains(page, "<h1>Welcome to Glowworm</h1>", html=True)
    assertContains(page, "This page is shown only once.")
    assertContains(page, f'<input type="hidden" name="token" value="{token}">', html=True)  # carried to the POST
    for field in ("username", "password1", "password2"):
        assert f'name="{field}"' in page.content.decode(), field
    assertContains(page, '<button type="submit">Create account</button>', html=True)
    response = client.post("/setup/", dict(FIRST, token=token))
    assert response.status_code == 302 and response.url == "/"
    owner = get_user_model().objects.get()
    assert owner.is_superuser and owner.is_staff
    home = client.get("/")  # logged in straight away
    assertContains(home, "Welcome, owner. Drop photos anywhere on this page to upload them.")
    # The token died with its first use.
    again = Client().post("/setup/", dict(FIRST, username="second", token=token))
    assert again.status_code == 302 and again.url == "/login/"
    assert get_user_model().objects.count() == 1 and not SetupToken.objects.exists()


@pytest.mark.django_db
def test_a_new_link_replaces_the_old_one_and_the_link_survives_restarts(client):
    old = first_account.setup_token()
    assert first_account.setup_token() == old  # what serve prints at every start, and --keep
    new = first_account.setup_token(fresh=True)
    assert new != old
    assert client.get(f"/setup/?token={old}").status_code == 403
    assert client.get(f"/setup/?token={new}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_racing_posts_with_the_token_make_one_account():
    token = first_account.setup_token()
    barrier = threading.Barrier(2)

    def claim(name):
        barrier.wait()
        try:
            return Client().post("/setup/", dict(FIRST, username=name, token=token)).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(claim, ["first", "second"]))
    assert get_user_model().objects.count() == 1
    assert statuses[0] == 302 and statuses[1] in (302, 403)  # the loser is told the link is used (or to log in)


@pytest.mark.django_db
def test_setup_url_command_prints_the_full_link(capsys, settings):
    settings.GLOWWORM_PUBLIC_URL = "https://photos.example.com/"
    call_command("setup_url")
    line = capsys.readouterr().out.strip()
    assert line.startswith("Create the first account: https://photos.example.com/setup/?token=")
    token = line.rsplit("token=", 1)[1]
    assert first_account.token_is_valid(token)
    call_command("setup_url", "--keep", "--base", "http://10.0.0.5:8000")
    assert capsys.readouterr().out.strip() == f"Create the first account: http://10.0.0.5:8000/setup/?token={token}"


def test_public_base_shows_a_wildcard_bind_as_loopback(settings):
    settings.GLOWWORM_PUBLIC_URL = ""
    assert first_account.public_base("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert first_account.public_base("192.168.1.20", 9000) == "http://192.168.1.20:9000"


@pytest.mark.django_db
def test_setup_form_is_one_time_only(client, user):
    response = client.post("/setup/", {"username": "intruder", "password1": "x" * 20, "password2": "x" * 20})
    assert response.status_code == 302 and response.url == "/login/"
    assert not get_user_model().objects.filter(username="intruder").exists()


@pytest.mark.django_db
def test_new_passwords_need_twelve_characters(client):
    token = first_account.setup_token()
    short = {"username": "owner", "password1": "Tr0ub4dor&3", "password2": "Tr0ub4dor&3", "token": token}
    response = client.post("/setup/", short)
    assert response.status_code == 200 and "at least 12 characters" in response.content.decode()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_pages_need_login_once_an_account_exists(client, user):
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/login/?next=/"
    login_page = client.get("/login/")
    assert 'name="username"' in login_page.content.decode() and 'name="password"' in login_page.content.decode()
    assert client.get("/setup/").url == "/login/"  # no second first account
    # Once the account exists the API answers as an API: JSON, and 401 without a login.
    api = client.get("/api/images/")
    assert api.status_code == 401 and "Log in or send an API token" in api.json()["error"]


@pytest.mark.django_db
def test_ensure_superuser_creates_admin_from_environment_once(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-enough-for-12")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    call_command("ensure_superuser")
    call_command("ensure_superuser")  # absent -> created; present -> left alone
    admin = get_user_model().objects.get()
    assert admin.is_superuser and admin.check_password("s3cret-enough-for-12")


@pytest.mark.django_db
def test_ensure_superuser_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "password")
    with pytest.raises(CommandError, match="too weak"):
        call_command("ensure_superuser")
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_ensure_superuser_without_password_is_an_error(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    with pytest.raises(CommandError):
        call_command("ensure_superuser")


def test_database_url_parsing():
    mysql = database_from_url("mysql://glow:p%40ss@db.local:3307/photos")
    assert (mysql["ENGINE"], mysql["NAME"], mysql["USER"], mysql["PASSWORD"], mysql["HOST"], mysql["PORT"]) == (
        "django.db.backends.mysql", "photos", "glow", "p@ss", "db.local", "3307",
    )  # fmt: skip
    assert database_from_url("sqlite:////srv/glow.db")["NAME"] == "/srv/glow.db"
    with pytest.raises(ImproperlyConfigured):
        database_from_url("postgres://x/y")


def test_display_sizes_parsing():
    assert parse_sizes("X", "1080x1920, 800X600") == [(1080, 1920), (800, 600)]
    with pytest.raises(ImproperlyConfigured):
        parse_sizes("X", "big")


def settings_process(var_dir, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(GLOWWORM_VAR_DIR=str(var_dir), **extra)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"], env=env, capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.live
def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = settings_process(tmp_path)
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


@pytest.mark.live
def test_management_commands_beside_make_run_read_its_secret_key(tmp_path):
    (tmp_path / "secret_key").write_text("a-key-make-run-wrote-" + "x" * 40 + "\n")
    result = settings_process(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_reports_database_redis_and_workers(client):
    response = client.get("/healthz")
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok"
    # No worker runs during unit tests: that is "down".
    assert body["workers"] == 0 and response.status_code == 503


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_unreachable(client, settings):
    settings.RQ_QUEUES = {"default": {"URL": "unix:///nonexistent/redis.sock"}}
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["redis"].startswith("error")
