"""The trash: every delete moves photos there, the API contract exactly, restore, re-upload restores, purge."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gallery import library, trash
from gallery.frames import state
from gallery.frames.models import Frame, Playlist, PlaylistItem
from gallery.models import Album, AlbumPhoto, ApiToken, Photo
from tests.conftest import DATA, ready_photo
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    _, token = ApiToken.issue(user)
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def upload(client, name="formats/hopper.jpg"):
    with open(DATA / name, "rb") as handle:
        return client.post("/api/images/", {"file": handle})


def test_delete_moves_to_the_trash_and_get_still_answers(api, redis_conn):
    photo_id = upload(api).json()["id"]
    response = api.delete(f"/api/images/{photo_id}/")
    assert response.status_code == 200
    trashed_at = response.json()["trashed_at"]
    assert trashed_at is not None and response.json()["id"] == photo_id
    got = api.get(f"/api/images/{photo_id}/")
    assert got.status_code == 200 and got.json()["trashed_at"] == trashed_at
    # Deleting again leaves it as it is.
    again = api.delete(f"/api/images/{photo_id}/")
    assert again.status_code == 200 and again.json()["trashed_at"] == trashed_at


def test_the_list_leaves_the_trash_out_unless_asked(api, redis_conn):
    kept, trashed = upload(api).json()["id"], upload(api, "formats/hopper_gray.jpg").json()["id"]
    api.delete(f"/api/images/{trashed}/")
    assert [p["id"] for p in api.get("/api/images/").json()["results"]] == [kept]
    body = api.get("/api/images/?trashed=1").json()
    assert body["count"] == 1 and [p["id"] for p in body["results"]] == [trashed]
    assert body["results"][0]["trashed_at"] is not None
    assert api.get("/api/images/?trashed=maybe").status_code == 400


def test_restore_brings_it_back(api, redis_conn):
    photo_id = upload(api).json()["id"]
    api.delete(f"/api/images/{photo_id}/")
    response = api.post(f"/api/images/{photo_id}/restore/")
    assert response.status_code == 200 and response.json()["trashed_at"] is None
    assert [p["id"] for p in api.get("/api/images/").json()["results"]] == [photo_id]
    assert api.post("/api/images/999999/restore/").status_code == 404


def test_uploading_a_trashed_photo_again_restores_it_and_says_so(api, redis_conn):
    photo_id = upload(api).json()["id"]
    api.delete(f"/api/images/{photo_id}/")
    response = upload(api)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == photo_id and body["duplicate"] is True and body["restored"] is True
    assert body["trashed_at"] is None
    plain_duplicate = upload(api).json()
    assert plain_duplicate["duplicate"] is True and plain_duplicate["restored"] is None


def test_purge_deletes_forever_from_any_state(api, redis_conn, media_root, django_capture_on_commit_callbacks):
    in_library = upload(api).json()["id"]
    in_trash = upload(api, "formats/hopper_gray.jpg").json()["id"]
    api.delete(f"/api/images/{in_trash}/")
    originals = [media_root / p.original for p in Photo.all_objects.all()]
    assert all(path.is_file() for path in originals)
    for photo_id in (in_library, in_trash):
        with django_capture_on_commit_callbacks(execute=True):
            assert api.delete(f"/api/images/{photo_id}/?purge=1").status_code == 204
        assert api.get(f"/api/images/{photo_id}/").status_code == 404
        assert api.delete(f"/api/images/{photo_id}/?purge=1").status_code == 404
    assert not any(path.exists() for path in originals)


def test_trashed_photos_leave_library_albums_duplicates_zips_and_frames(client_logged_in, redis_conn):
    photo = ready_photo(client_logged_in)
    other = make_photo_row()
    album = Album.objects.create(name="Summer")
    AlbumPhoto.objects.create(album=album, photo=photo)
    playlist = Playlist.objects.create(name="Hall")
    PlaylistItem.objects.create(playlist=playlist, photo=photo)
    frame = Frame.objects.create(name="Wall", playlist=playlist, secret_digest="x" * 64)
    assert [p["id"] for s in state.read_state(frame).message["slides"] for p in s["photos"]] == [photo.pk]

    trash.trash_photos(photo_ids=[photo.pk])
    assert list(Photo.objects.values_list("pk", flat=True)) == [other.pk]
    assert list(album.photos.all()) == []
    assert library.library_page(Photo.objects.all(), cursor=None).photos == [other]
    assert state.read_state(frame).message["slides"] == []
    assert client_logged_in.get(f"/albums/{album.pk}/").status_code == 200
    assert f'id="photo-{photo.pk}"' not in client_logged_in.get(f"/albums/{album.pk}/").content.decode()
    zipped = client_logged_in.post("/photos/bulk/", {"action": "download", "photo": [photo.pk], "next": "/"})
    assert b"hopper" not in b"".join(zipped.streaming_content)

    trash.restore_photos(photo_ids=[photo.pk])  # memberships were kept
    assert list(album.photos.all()) == [photo]
    assert [p["id"] for s in state.read_state(frame).message["slides"] for p in s["photos"]] == [photo.pk]


def test_the_cron_purges_only_what_has_waited_long_enough(settings, media_root):
    settings.GLOWWORM_TRASH_DAYS = 30
    old, recent, kept = make_photo_row(), make_photo_row(), make_photo_row()
    Photo.all_objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    Photo.all_objects.filter(pk=recent.pk).update(trashed_at=timezone.now() - timedelta(days=29))
    assert trash.purge_expired() == 1
    assert set(Photo.all_objects.values_list("pk", flat=True)) == {recent.pk, kept.pk}


def test_a_pushed_fragment_removes_a_trashed_tile():
    from gallery.fragments import photo_fragments

    photo = make_photo_row()
    assert f'id="photo-{photo.pk}"' in photo_fragments([photo.pk]) and "delete" not in photo_fragments([photo.pk])
    trash.trash_photos(photo_ids=[photo.pk])
    assert photo_fragments([photo.pk]) == f'<div id="photo-{photo.pk}" hx-swap-oob="delete"></div>'
