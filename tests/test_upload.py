import hashlib

import pytest

from gallery.models import Photo
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


@pytest.mark.django_db
def test_an_upload_is_hashed_while_it_streams_in_and_never_read_again_to_hash_it(client_logged_in, monkeypatch):
    from gallery import services

    def read_again(path):
        raise AssertionError("the upload was read a second time to hash it")

    monkeypatch.setattr(services, "sha256_of", read_again)
    data = (DATA / "formats/hopper.jpg").read_bytes()
    with open(DATA / "formats/hopper.jpg", "rb") as handle:
        response = client_logged_in.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
