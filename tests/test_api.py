"""JSON API: upload, status, list; session (with CSRF) or Bearer token."""

import pytest
from django.core.management import call_command
from django.test import Client

from gallery.models import ApiToken, Photo
from tests.conftest import DATA

pytestmark = pytest.mark.django_db


def post_file(client, name="hopper.jpg", folder="formats", **extra):
    with open(DATA / folder / name, "rb") as handle:
        return client.post("/api/images/", {"file": handle}, **extra)


def test_api_token_command_prints_a_token_that_is_stored_hashed(user, capsys):
    call_command("api_token", user.username)
    token = capsys.readouterr().out.strip()
    assert token.startswith("gw_") and len(token) > 40
    stored = ApiToken.objects.get(user=user)
    assert token not in (stored.digest, stored.prefix) and stored.digest != token


def test_bearer_token_uploads_without_csrf_and_reads_status(user, capsys):
    call_command("api_token", user.username)
    token = capsys.readouterr().out.strip()
    client = Client(enforce_csrf_checks=True)
    response = post_file(client, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "status", "sha256", "width", "height", "url"}
    status = client.get(f"/api/images/{body['id']}/", headers={"Authorization": f"Bearer {token}"}).json()
    assert status["status"] == "queued" and status["variants"] == [] and status["error"] == ""
    assert set(status) >= {"id", "status", "error", "width", "height", "sha256", "taken_at", "variants"}
    assert Photo.objects.get().uploaded_by == user


def test_wrong_token_and_anonymous_get_401(user):
    assert Client().get("/api/images/").status_code == 401
    response = Client().get("/api/images/", headers={"Authorization": "Bearer gw_nope"})
    assert response.status_code == 401 and "token" in response.json()["error"]


def test_session_caller_needs_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert post_file(client).status_code == 403
    assert Photo.objects.count() == 0
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert post_file(client, headers={"X-CSRFToken": token}).status_code == 201


def test_list_filters_by_status_and_paginates(client_logged_in):
    first = post_file(client_logged_in).json()["id"]
    post_file(client_logged_in, "hopper_gray.jpg")
    Photo.objects.filter(pk=first).update(status=Photo.Status.READY)
    body = client_logged_in.get("/api/images/?status=ready").json()
    assert body["count"] == 1 and [p["id"] for p in body["results"]] == [first]
    assert client_logged_in.get("/api/images/").json()["count"] == 2
    assert client_logged_in.get("/api/images/?status=bogus").status_code == 400
    assert client_logged_in.get("/api/images/?page=9").status_code == 404


def test_the_photo_json_carries_the_caption(client_logged_in):
    body = post_file(client_logged_in).json()
    assert body["caption"] == ""
    Photo.objects.filter(pk=body["id"]).update(caption="Hopper at work\n<i>1952</i>")
    assert client_logged_in.get(f"/api/images/{body['id']}/").json()["caption"] == "Hopper at work\n<i>1952</i>"
    listed = client_logged_in.get("/api/images/").json()["results"]
    assert [photo["caption"] for photo in listed] == ["Hopper at work\n<i>1952</i>"]


def test_missing_photo_is_a_json_404(client_logged_in):
    response = client_logged_in.get("/api/images/999/")
    assert response.status_code == 404 and response.json()["error"]


def test_upload_needs_exactly_one_file(client_logged_in):
    response = client_logged_in.post("/api/images/", {})
    assert response.status_code == 400 and "file" in response.json()["error"]


def test_unsupported_format_is_415_and_names_accepted_formats(client_logged_in, media_root, tmp_path):
    bmp = tmp_path / "picture.jpg"
    from PIL import Image

    Image.new("RGB", (10, 10)).save(bmp, "BMP")
    with open(bmp, "rb") as handle:
        response = client_logged_in.post("/api/images/", {"file": handle})
    assert response.status_code == 415
    assert "JPEG" in response.json()["error"] and "HEIC" in response.json()["error"]
    assert not any(media_root.rglob("*.*"))


def test_oversized_upload_is_413_and_stores_nothing(client_logged_in, settings, media_root, tmp_path):
    settings.GLOWWORM_MAX_UPLOAD_MB = 1
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"\0" * (1024 * 1024 + 10))
    with open(big, "rb") as handle:
        response = client_logged_in.post("/api/images/", {"file": handle})
    assert response.status_code == 413 and "1 MB" in response.json()["error"]
    assert Photo.objects.count() == 0 and not any(media_root.rglob("*.*"))


@pytest.mark.parametrize(
    "path",
    ["/api/nothing/", "/api/images/not-an-id/", "/api/images/1234567890123456789/", "/api/images/a%0Ab/restore/"],
)
def test_unknown_paths_and_ids_that_are_not_ids_answer_the_json_404(user, path):
    """Not the site's HTML page, and never the database driver's overflow (a 500) for a number too long for an id."""
    _, token = ApiToken.issue(user)
    for method in ("get", "post", "delete"):
        response = getattr(Client(), method)(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, (method, response.content)
        assert response.json() == {"error": "Nothing here: the API's schema is at /api/schema/."}
    assert Client().get(path).status_code == 401
