"""Media behind nginx (GLOWWORM_MEDIA_ACCEL_PREFIX): after the same access checks, the answer is an empty response
whose X-Accel-Redirect names the resolved file under the prefix, with the headers Django would have sent."""

import os
import subprocess
import sys

import pytest

from gallery.frames.models import Playlist, PlaylistItem
from gallery.frames.state import variant_url
from gallery.models import ApiToken
from tests.conftest import ROOT, ready_photo
from tests.test_frames import paired_frame_client, photo_with_files

pytestmark = pytest.mark.django_db
PREFIX = "/protected-media/"


@pytest.fixture(autouse=True)
def accel(settings):
    settings.GLOWWORM_MEDIA_ACCEL_PREFIX = PREFIX


@pytest.fixture
def photo(client_logged_in, redis_conn):
    return ready_photo(client_logged_in)


def test_a_variant_is_handed_to_nginx_with_its_headers_and_no_body(client_logged_in, photo):
    thumb = photo.variants_by_name["thumb"]
    response = client_logged_in.get(thumb.url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == PREFIX + thumb.file
    assert thumb.file.startswith("variants/")
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert not response.streaming and response.content == b""


def test_an_original_is_handed_to_nginx_as_an_attachment(client_logged_in, photo):
    response = client_logged_in.get(f"/photos/{photo.pk}/original/")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == PREFIX + photo.original
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'attachment; filename="hopper.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == b""


def test_an_api_token_reaches_variants_through_nginx_too(client, photo, user):
    _, token = ApiToken.issue(user)
    thumb = photo.variants_by_name["thumb"]
    response = client.get(thumb.url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response["X-Accel-Redirect"] == PREFIX + thumb.file


def test_anonymous_callers_are_sent_to_log_in_and_never_get_the_header(client_logged_in, photo, client):
    client_logged_in.logout()
    for url in (photo.variants_by_name["thumb"].url, f"/photos/{photo.pk}/original/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
        assert "X-Accel-Redirect" not in response, url


def test_a_wrong_token_gets_no_header(client, photo):
    response = client.get(photo.variants_by_name["thumb"].url, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code in (302, 401) and "X-Accel-Redirect" not in response


@pytest.mark.parametrize(
    "template",
    [
        "/media/variants/../{original}",
        "/media/variants/%2e%2e/{original}",
        "/media/{original}",
        "/media/variants/",
        "/media/variants/ab/missing-thumb-0000.webp",
        "/media/variants/" + "a" * 5000 + ".webp",
    ],
)
def test_names_outside_variants_or_missing_files_are_404_without_the_header(client_logged_in, photo, template):
    response = client_logged_in.get(template.format(original=photo.original))
    assert response.status_code == 404 and "X-Accel-Redirect" not in response


def test_a_missing_original_is_404(client_logged_in, photo, media_root):
    (media_root / photo.original).unlink()
    response = client_logged_in.get(f"/photos/{photo.pk}/original/")
    assert response.status_code == 404 and "X-Accel-Redirect" not in response


def test_nginx_gets_the_resolved_name_not_a_symlink(client_logged_in, photo, media_root):
    thumb = photo.variants_by_name["thumb"]
    (media_root / "variants" / "alias.webp").symlink_to(media_root / thumb.file)
    response = client_logged_in.get("/media/variants/alias.webp")
    assert response["X-Accel-Redirect"] == PREFIX + thumb.file


def test_a_frame_gets_its_variants_through_nginx_and_nothing_else(client_logged_in, user, media_root):
    mine, other = photo_with_files(media_root), photo_with_files(media_root)
    hall = Playlist.objects.create(name="Hall")
    PlaylistItem.objects.create(playlist=hall, photo=mine)
    frame_client, _ = paired_frame_client(client_logged_in, hall)
    own = mine.variants.get(name="preview")
    response = frame_client.get(variant_url(own))
    assert response.status_code == 200 and response["X-Accel-Redirect"] == PREFIX + own.file
    assert response.content == b""
    foreign = frame_client.get(variant_url(other.variants.get(name="preview")))
    assert foreign.status_code == 404 and "X-Accel-Redirect" not in foreign


def test_without_the_setting_django_sends_the_file_itself(client_logged_in, photo, settings):
    settings.GLOWWORM_MEDIA_ACCEL_PREFIX = ""
    response = client_logged_in.get(photo.variants_by_name["thumb"].url)
    assert "X-Accel-Redirect" not in response
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


@pytest.mark.live
@pytest.mark.parametrize("value", ["protected-media/", "/protected-media"])
def test_a_prefix_without_both_slashes_fails_at_start(value):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="glowworm.settings", SECRET_KEY="x",
                 GLOWWORM_MEDIA_ACCEL_PREFIX=value),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )  # fmt: skip
    assert result.returncode != 0 and "GLOWWORM_MEDIA_ACCEL_PREFIX" in result.stderr
