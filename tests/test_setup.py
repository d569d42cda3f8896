"""First account, the admin from the environment, settings parsing, and /healthz."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from glowworm.settings import database_from_url, parse_sizes


@pytest.mark.django_db
def test_every_page_leads_to_first_account_form_until_one_exists(client):
    assert client.get("/").url == "/setup/"
    assert client.get("/api/images/").status_code in (302, 401)
    assert client.get("/setup/").status_code == 200
    response = client.post(
        "/setup/", {"username": "owner", "password1": "a long pass phrase", "password2": "a long pass phrase"}
    )
    assert response.status_code == 302 and response.url == "/"
    owner = get_user_model().objects.get()
    assert owner.is_superuser and owner.is_staff
    assert client.get("/").status_code == 200  # logged in straight away


@pytest.mark.django_db
def test_setup_form_is_one_time_only(client, user):
    response = client.post("/setup/", {"username": "intruder", "password1": "x" * 20, "password2": "x" * 20})
    assert response.status_code == 302 and response.url == "/login/"
    assert not get_user_model().objects.filter(username="intruder").exists()


@pytest.mark.django_db
def test_pages_need_login_once_an_account_exists(client, user):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.get("/login/").status_code == 200


@pytest.mark.django_db
def test_ensure_superuser_creates_admin_from_environment_once(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-enough")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    call_command("ensure_superuser")
    call_command("ensure_superuser")  # absent -> created; present -> left alone
    admin = get_user_model().objects.get()
    assert admin.is_superuser and admin.check_password("s3cret-enough")


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


@pytest.mark.live
def test_secret_key_is_required_when_debug_is_off():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "glowworm.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


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
