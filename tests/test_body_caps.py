"""Request bodies are capped before Daphne reads them (glowworm/daphne_tuning.py, gallery/uploads.py): 1 MB for any
request, an upload path's files for a caller with a valid session or API token, and nothing read from anyone else."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve, reverse

from gallery import uploads, views
from gallery.models import ApiToken

MB = 1024 * 1024


# --- the caps --------------------------------------------------------------------------------------------------------


def test_upload_paths_take_their_files_from_logged_in_callers_only(settings):
    settings.GLOWWORM_MAX_UPLOAD_MB = 200
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 20
    assert uploads.body_cap("/upload/", may_upload=True) == 20 * 200 * MB + uploads.UPLOAD_ENVELOPE
    assert uploads.body_cap("/api/images/", may_upload=True) == 200 * MB + uploads.UPLOAD_ENVELOPE
    for path in ("/upload/", "/api/images/", "/login/", "/api/images/1/", "/upload"):
        assert uploads.body_cap(path, may_upload=False) == MB
    assert uploads.body_cap("/login/", may_upload=True) == MB


def test_the_upload_paths_are_the_upload_views():
    assert reverse("upload") in settings.GLOWWORM_UPLOAD_PATHS
    assert resolve("/upload/").func is views.upload
    match = resolve("/api/images/")  # the API's images collection: GET lists, POST uploads one file
    assert match.namespace == "api" and match.url_name == "list_images"
    assert settings.GLOWWORM_UPLOAD_PATHS["/api/images/"] == 1


# --- who may upload --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_token_may_upload_and_a_forged_or_disabled_one_may_not(user):
    _, plain = ApiToken.issue(user)
    assert uploads.may_upload(authorization=f"Bearer {plain}", cookie=None)
    assert not uploads.may_upload(authorization="Bearer gw_forged", cookie=None)
    assert not uploads.may_upload(authorization=None, cookie=None)
    user.is_active = False
    user.save()
    assert not uploads.may_upload(authorization=f"Bearer {plain}", cookie=None)


@pytest.mark.django_db
def test_a_logged_in_session_may_upload_and_a_forged_or_stale_one_may_not(user):
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    assert uploads.may_upload(authorization=None, cookie=f"csrftoken=x; {cookie}")
    assert uploads.may_upload(authorization="Basic cHJveHk6cGFzcw==", cookie=cookie)  # a proxy's own log-in
    assert not uploads.may_upload(authorization=None, cookie=f"{settings.SESSION_COOKIE_NAME}={'a' * 32}")
    assert not uploads.may_upload(authorization="Bearer gw_forged", cookie=cookie)  # a token decides alone
    user.set_password("another long password")  # logs out every session, as Django does
    user.save()
    assert not uploads.may_upload(authorization=None, cookie=cookie)
