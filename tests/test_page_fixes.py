"""What a reviewer found on the pages: errors said once and at their fields, the frames list telling the truth,
confirmations before revoking, 'just now', a playlist's total, styled 404 and 500 pages."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from django.views.defaults import server_error
from pytest_django.asserts import assertContains, assertNotContains

from gallery.frames import playlists
from gallery.frames.models import Frame, FrameSchedule, Playlist
from gallery.models import Album, hash_token
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


def test_a_failed_login_says_so_once(client, user):
    response = client.post("/login/", {"username": user.username, "password": "wrong"})
    html = response.content.decode()
    assert html.count("Please enter a correct username and password") == 1
    assert 'role="alert"' not in html and "data-announce" in html


def test_a_schedule_error_shows_at_its_field_and_keeps_the_values(client_logged_in):
    frame = Frame.objects.create(name="Hall")
    window = {
        "schedule-weekdays": ["0", "1"],
        "schedule-start": "22:00",
        "schedule-end": "06:00",
        "schedule-action": "playlist",
        "schedule-playlist": "",
        "schedule-priority": "2",
    }
    response = client_logged_in.post(f"/frames/{frame.pk}/schedules/", window)
    html = response.content.decode()
    assert response.status_code == 400 and not FrameSchedule.objects.exists()
    form = html[html.index(f'action="/frames/{frame.pk}/schedules/"') :]
    assert "Choose the playlist this window shows." in form  # inside the form, at the field
    assert 'value="22:00"' in form and 'value="06:00"' in form and 'value="2"' in form
    assert 'value="0" id="id_schedule-weekdays_0" checked' in form
    assert '<details class="frame-add-window" open>' in html
    assertNotContains(response, 'class="toast toast--', status_code=400)  # not as a message at the top


def test_the_frames_list_tells_what_each_frame_really_shows(client_logged_in):
    photo = make_photo_row(original_name="beach.jpg")
    now = timezone.now()
    Frame.objects.create(name="Revoked", secret_digest=hash_token("a"), revoked_at=now, showing=photo)
    Frame.objects.create(name="Dark", secret_digest=hash_token("b"), showing=photo, schedule_state="blank:4")
    Frame.objects.create(
        name="Away", secret_digest=hash_token("c"), showing=photo, last_seen_at=now - timedelta(hours=2)
    )
    Frame.objects.create(name="Live", secret_digest=hash_token("d"), showing=photo, last_seen_at=now, connections=1)
    html = client_logged_in.get("/frames/").content.decode()
    cards = {name: html[html.index(f">{name}</a>") :].split("</li>")[0] for name in ("Revoked", "Dark", "Away", "Live")}
    assert "access was revoked" in cards["Revoked"] and "beach.jpg" not in cards["Revoked"]
    assert "A blank screen" in cards["Dark"] and "beach.jpg" not in cards["Dark"]
    assert (
        "Last showed" in cards["Away"]
        and 'value="previous"' not in cards["Away"]
        and "while it is online" in cards["Away"]
    )
    assert "<dt>Showing</dt>" in cards["Live"] and "beach.jpg" in cards["Live"] and 'value="previous"' in cards["Live"]
    assert "just now" in cards["Live"] and "2\xa0hours ago" in cards["Away"]


def test_revoking_a_frame_asks_first(client_logged_in):
    frame = Frame.objects.create(name="Hall", secret_digest=hash_token("x"))
    page = client_logged_in.post(f"/frames/{frame.pk}/revoke/")
    assertContains(page, "<h1>Revoke Hall’s access?</h1>", html=True)
    frame.refresh_from_db()
    assert frame.is_paired
    detail = client_logged_in.get(f"/frames/{frame.pk}/").content.decode()
    assert 'data-confirm-title="Revoke Hall’s access?"' in detail
    client_logged_in.post(f"/frames/{frame.pk}/revoke/", {"confirmed": "1"})
    frame.refresh_from_db()
    assert not frame.is_paired


def test_deleting_a_playlist_names_the_frames_that_show_it(client_logged_in):
    playlist = Playlist.objects.create(name="Hall")
    Frame.objects.create(name="Kitchen", playlist=playlist)
    assertContains(client_logged_in.get(f"/playlists/{playlist.pk}/delete/"), "Shown now on Kitchen.")
    assert Playlist.objects.filter(pk=playlist.pk).exists()


def test_the_playlist_header_counts_every_photo_it_shows(client_logged_in):
    own = [make_photo_row() for _ in range(2)]
    in_album = [make_photo_row() for _ in range(3)]
    album = Album.objects.create(name="Trip")
    album.photos.add(*in_album, own[0])
    playlist = Playlist.objects.create(name="Hall")
    playlists.add_photos(playlist=playlist, photo_ids=[p.pk for p in own])
    playlists.follow_album(playlist=playlist, album=album)
    html = client_logged_in.get(f"/playlists/{playlist.pk}/").content.decode()
    assert "5 photos in all: 2 of its own and those of 1 followed album" in html


def test_a_missing_page_is_a_styled_404(client_logged_in):
    response = client_logged_in.get("/photos/999999/")
    assert response.status_code == 404
    assertContains(response, "<h1>Nothing here</h1>", status_code=404, html=True)
    assertContains(response, 'class="site-header"', status_code=404)


def test_the_500_page_needs_no_request_user(settings):
    request = RequestFactory().get("/")  # no session, no user: as Django calls it after a crash
    response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "glowworm.css" in html and 'href="/"' in html
