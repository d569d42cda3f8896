import asyncio
import json

import pytest
from asgiref.sync import async_to_sync

from gallery.models import Photo
from gallery.uploads import RejectOversizedApiUpload
from tests.conftest import DATA

pytestmark = pytest.mark.django_db


def upload(client, path, name=None, url="/api/images/"):
    with open(path, "rb") as handle:
        return client.post(url, {"file": handle} if url.startswith("/api") else {"files": handle})


def test_api_upload_creates_queued_photo_with_upright_size(
    client_logged_in, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client_logged_in, DATA / "photos" / "portrait_orientation_6.jpg")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert (body["width"], body["height"]) == (1200, 1800)
    photo = Photo.objects.get(pk=body["id"])
    assert photo.original_name == "portrait_orientation_6.jpg"
    assert "portrait" not in photo.original  # the client's name never becomes a path
    assert (media_root / photo.original).is_file()
    assert len(callbacks) == 1  # the render is enqueued after commit


def test_api_upload_duplicate_answers_200_with_existing_photo(client_logged_in):
    first = upload(client_logged_in, DATA / "formats" / "hopper.jpg").json()
    response = upload(client_logged_in, DATA / "formats" / "hopper.jpg")
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert response.json()["id"] == first["id"]
    assert Photo.objects.count() == 1


@pytest.mark.parametrize("name", ["decompression_bomb.gif", "truncated_jpeg.jpg"])
def test_api_upload_rejects_bad_files_and_stores_nothing(client_logged_in, media_root, name):
    response = upload(client_logged_in, DATA / "bad" / name)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]
    assert Photo.objects.count() == 0
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_purging_a_photo_removes_row_original_and_variants(
    client_logged_in, media_root, django_capture_on_commit_callbacks
):
    from gallery.models import Variant
    from gallery.trash import purge_photos

    photo = Photo.objects.get(pk=upload(client_logged_in, DATA / "formats" / "hopper.jpg").json()["id"])
    (media_root / "variants").mkdir()
    (media_root / "variants" / "v.webp").write_bytes(b"x")
    Variant.objects.create(photo=photo, name="thumb", file="variants/v.webp", width=1, height=1, format="WEBP", bytes=1)
    with_files = [media_root / photo.original, media_root / "variants" / "v.webp"]
    assert all(path.exists() for path in with_files)
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_photos(photo_ids=[photo.pk]) == 1
    assert not Photo.all_objects.exists() and not Variant.objects.exists()
    assert not any(path.exists() for path in with_files)


def call_asgi(method: str, path: str, content_length: bytes) -> tuple[dict, bytes, int]:
    """One raw HTTP request through the project's ASGI application, as Daphne makes it. Returns the response start
    message, the body, and how many times the application asked for the request body (receive)."""
    from glowworm.asgi import application

    sent, reads = [], []

    async def receive():
        reads.append(method)
        if len(reads) == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Future()  # no disconnect: Django cancels this wait once it has answered

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"content-length", content_length),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    async_to_sync(application)(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start, body, len(reads)


# transaction=True: Django's ASGI handler closes the database connection when the request finishes.
@pytest.mark.django_db(transaction=True)
def test_asgi_answers_413_to_an_api_upload_declaring_too_many_bytes_before_reading_it(settings, user):
    settings.GLOWWORM_MAX_UPLOAD_MB = 1
    over = str(1024 * 1024 + RejectOversizedApiUpload.envelope + 1).encode()
    start, body, reads = call_asgi("POST", "/api/images/", over)
    assert reads == 0  # refused from the headers: not one byte of the body was asked for
    assert start["status"] == 413
    assert dict(start["headers"]) == {b"content-type": b"application/json", b"connection": b"close"}
    assert json.loads(body) == {"error": "The file is larger than the 1 MB limit."}
    assert not Photo.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "method, path, content_length, status",
    [
        ("POST", "/api/images/", str(1024 * 1024 + RejectOversizedApiUpload.envelope).encode(), 401),  # at the limit
        ("POST", "/api/images/", b"2e9", 401),  # not a number: the multipart parser's limit applies
        ("GET", "/api/images/", b"999999999999", 401),
        ("POST", "/upload/", b"999999999999", 403),  # the form streams and stops at the limit itself
    ],
)
def test_asgi_size_guard_lets_other_requests_through_to_django(settings, user, method, path, content_length, status):
    settings.GLOWWORM_MAX_UPLOAD_MB = 1
    start, _, reads = call_asgi(method, path, content_length)
    assert start["status"] == status and reads >= 1  # Django answered (no login, no CSRF token) after reading
