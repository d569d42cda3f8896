"""`manage.py smoke` against a live Daphne + worker, its own checks, and the DELETE API it cleans up with."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from PIL import Image, ImageOps
from PIL.ExifTags import Base

from gallery import storage
from gallery.management.commands import smoke
from gallery.models import ApiToken, Photo, Variant
from tests.conftest import free_port


def test_generated_photo_is_stored_sideways_with_orientation_6():
    data = smoke.make_photo()
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif()[Base.Orientation] == 6
        assert image.width > image.height  # stored landscape...
        upright = ImageOps.exif_transpose(image)
    assert upright.size == smoke.UPRIGHT_SIZE  # ...shown portrait
    assert smoke.upright_problem(upright) == ""
    assert smoke.make_photo() != data  # every run uploads a new photo, never a duplicate


def test_upright_check_rejects_sideways_and_upside_down_images():
    with Image.open(io.BytesIO(smoke.make_photo())) as stored:
        stored.load()
        assert "landscape" in smoke.upright_problem(stored)  # orientation ignored
        upright = ImageOps.exif_transpose(stored)
    assert "not at the top" in smoke.upright_problem(upright.transpose(Image.Transpose.ROTATE_180))
    assert "not at the top" in smoke.upright_problem(upright.transpose(Image.Transpose.FLIP_TOP_BOTTOM))


@pytest.mark.live
def test_smoke_passes_against_a_live_stack_and_leaves_nothing_behind(live, django_user_model):
    user = django_user_model.objects.create_user("smoke", password="smoke-test-password")
    _, token = ApiToken.issue(user)
    out = io.StringIO()
    try:
        call_command("smoke", url=live.url, token=token, timeout=90, stdout=out)
    except CommandError:
        print(out.getvalue(), live.output())
        raise
    text = out.getvalue()
    for stage in ("websocket open", "upload answered", "first push", "thumbnail ready", "all ready", "deleted"):
        assert f"  {stage} " in text, text
    assert "smoke test passed" in text
    assert not Photo.objects.exists() and not Variant.objects.exists()
    leftovers = [path for path in live.media_root.rglob("*") if path.is_file()]
    assert leftovers == []


@pytest.mark.live
def test_smoke_fails_with_a_clear_message_on_a_bad_token(live):
    with pytest.raises(CommandError, match="websocket .* did not open|answered 401"):
        call_command("smoke", url=live.url, token="gw_not-a-token", timeout=10, stdout=io.StringIO())


def test_smoke_fails_with_a_clear_message_when_nothing_listens():
    with pytest.raises(CommandError, match="did not open|cannot connect"):
        call_command("smoke", url=f"http://127.0.0.1:{free_port()}", token="x", timeout=5, stdout=io.StringIO())


def test_smoke_needs_a_token():
    with pytest.raises(CommandError, match="API token"):
        call_command("smoke", url="http://127.0.0.1:1", token="", stdout=io.StringIO())


@pytest.fixture
def stored_photo(media_root):
    photo = Photo(sha256="e" * 64, format="JPEG", file_size=3, width=1, height=1, status=Photo.Status.READY)
    photo.original = storage.original_name_for(photo.key.hex, "JPEG")
    storage.write_bytes(photo.original, b"abc")
    variant_file = storage.variant_name_for(photo.key.hex, "thumb", "webp")
    storage.write_bytes(variant_file, b"def")
    photo.save()
    Variant.objects.create(photo=photo, name="thumb", file=variant_file, width=1, height=1, format="WEBP", bytes=3)
    return photo, [photo.original, variant_file]


@pytest.mark.django_db(transaction=True)
def test_api_purge_removes_the_photo_and_its_files(client, user, stored_photo):
    photo, files = stored_photo
    _, token = ApiToken.issue(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.delete(f"/api/images/{photo.pk}/?purge=1", **auth)
    assert response.status_code == 204
    assert not Photo.all_objects.filter(pk=photo.pk).exists() and not Variant.objects.exists()
    assert not any(storage.media_path(name).exists() for name in files)
    assert client.delete(f"/api/images/{photo.pk}/", **auth).status_code == 404


@pytest.mark.django_db
def test_api_delete_needs_a_valid_token(client, user, stored_photo):
    photo, files = stored_photo
    assert client.delete(f"/api/images/{photo.pk}/").status_code == 401
    assert client.delete(f"/api/images/{photo.pk}/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert all(storage.media_path(name).exists() for name in files)


@pytest.mark.django_db
def test_variant_files_accept_an_api_token(client, user, stored_photo):
    photo, files = stored_photo
    url = photo.variants.get().url
    assert client.get(url).status_code == 302  # no session, no token: to the login page
    assert client.get(url, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    _, token = ApiToken.issue(user)
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"def"
