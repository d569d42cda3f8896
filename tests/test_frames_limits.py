"""A paired (or stolen) frame cannot amplify work or learn more than its playlist: screen buckets, what it may
say it shows, captions, and heartbeats that do not flood the frames page."""

import secrets

import pytest

from gallery.frames import state, status
from gallery.frames.models import Frame, PairingCode, Playlist, PlaylistAlbum, PlaylistItem
from gallery.models import Album, AlbumPhoto, hash_token
from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def playlist():
    return Playlist.objects.create(name="Hall", captions=True)


@pytest.fixture
def frame(playlist):
    return Frame.objects.create(name="Wall", playlist=playlist, secret_digest=hash_token(secrets.token_urlsafe(32)))


def test_a_frame_may_only_say_it_shows_a_photo_of_its_playlist(frame, playlist):
    mine, other = make_photo_row(), make_photo_row()
    PlaylistItem.objects.create(playlist=playlist, photo=mine)
    status.record_heartbeat(frame.pk, showing=other.pk, connected=1)
    assert Frame.objects.get(pk=frame.pk).showing_id is None
    status.record_heartbeat(frame.pk, showing=mine.pk)
    assert Frame.objects.get(pk=frame.pk).showing_id == mine.pk
    status.record_heartbeat(frame.pk, showing=10**9)  # no such photo
    assert Frame.objects.get(pk=frame.pk).showing_id is None


def test_a_plain_heartbeat_changes_nothing_the_frames_page_shows(frame, playlist):
    photo = make_photo_row()
    PlaylistItem.objects.create(playlist=playlist, photo=photo)
    assert status.record_heartbeat(frame.pk, connected=1) is True  # came online
    assert status.record_heartbeat(frame.pk) is False  # still online, nothing new: no broadcast
    assert status.record_heartbeat(frame.pk, showing=photo.pk) is True  # a new photo on screen
    assert status.record_heartbeat(frame.pk, showing=photo.pk) is False
    assert status.record_heartbeat(frame.pk, connected=-1) is True


def test_captions_name_only_albums_the_playlist_follows(frame, playlist):
    shared = make_photo_row(taken_at=aware(2024, 7, 14, 12))
    PlaylistItem.objects.create(playlist=playlist, photo=shared)
    private = Album.objects.create(name="Aaa private medical")  # sorts first, and the frame was not given it
    followed = Album.objects.create(name="Summer")
    AlbumPhoto.objects.create(album=private, photo=shared)
    caption = state.read_state(frame).message["slides"][0]["photos"][0]["caption"]
    assert caption == "14 July 2024" and "private" not in caption
    AlbumPhoto.objects.create(album=followed, photo=shared)
    PlaylistAlbum.objects.create(playlist=playlist, album=followed)
    caption = state.read_state(frame).message["slides"][0]["photos"][0]["caption"]
    assert caption == "14 July 2024 · Summer"


def test_one_address_cannot_hold_the_pool_of_pairing_codes(user):
    from django.test import Client

    answers = [Client().get("/frame/", REMOTE_ADDR="203.0.113.9").status_code for _ in range(12)]
    assert answers[:10] == [200] * 10 and answers[10:] == [429, 429]
    assert Client().get("/frame/", REMOTE_ADDR="203.0.113.10").status_code == 200  # a neighbour still gets one
    row = PairingCode.objects.order_by("-pk").first()
    assert row.requested_from == "203.0.113.10"


def test_pairing_a_frame_again_keeps_every_setting(frame, playlist):
    from datetime import time

    from gallery.frames import pairing
    from gallery.frames.models import FrameSchedule

    Frame.objects.filter(pk=frame.pk).update(time_zone="Europe/Berlin", screen_width=1080, screen_height=1920)
    FrameSchedule.objects.create(frame=frame, weekdays="0123456", start=time(22), end=time(6), action="blank")
    code, _ = pairing.start_pairing("192.0.2.1")
    pairing.pair_frame(code=code.code, name="", playlist=None, replace=Frame.objects.get(pk=frame.pk))
    again = Frame.objects.get(pk=frame.pk)
    assert (again.name, again.playlist_id, again.time_zone) == ("Wall", playlist.pk, "Europe/Berlin")
    assert (again.screen_width, again.screen_height) == (1080, 1920) and again.schedules.count() == 1
    assert again.secret_digest is None  # the old secret stopped working; the new browser collects a new one
