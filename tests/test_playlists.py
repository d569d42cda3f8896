"""Playlists: create, rename and settings, add by selection or album (followed or copied), reorder by drag or
buttons, remove, shuffle, and deleting a playlist never deletes a photo. Also the frame admin pages."""

from datetime import time

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from gallery.frames import playlists, screens, state
from gallery.frames.models import Frame, FrameSchedule, Playlist, PlaylistAlbum, PlaylistItem
from gallery.models import Album, AlbumPhoto, DisplaySize, Photo
from tests.gallery_factories import make_photo_row


def order(playlist) -> list[int]:
    return playlist.photo_ids()


@pytest.fixture
def playlist():
    return Playlist.objects.create(name="Hall")


@pytest.mark.django_db
def test_create_rename_and_change_settings(client_logged_in):
    response = client_logged_in.post("/playlists/", {"name": "  Kitchen  "})
    playlist = Playlist.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/playlists/{playlist.pk}/"
    assert playlist.name == "Kitchen"
    data = {"name": "Kitchen wall", "interval": 45, "transition": "kenburns", "shuffle": "on", "captions": "on"}
    assert client_logged_in.post(f"/playlists/{playlist.pk}/", data).status_code == 302
    playlist.refresh_from_db()
    assert (playlist.name, playlist.interval, playlist.transition, playlist.shuffle, playlist.captions) == (
        "Kitchen wall",
        45,
        "kenburns",
        True,
        True,
    )
    response = client_logged_in.post(f"/playlists/{playlist.pk}/", dict(data, interval=1))
    assert response.status_code == 200 and Playlist.objects.get().interval == 45


@pytest.mark.django_db
def test_add_a_selection_in_order_without_duplicates(client_logged_in, playlist):
    a, b, c = make_photo_row(), make_photo_row(), make_photo_row()
    page = client_logged_in.get(f"/playlists/{playlist.pk}/add/")
    assert page.status_code == 200 and f'value="{a.pk}"'.encode() in page.content
    client_logged_in.post(f"/playlists/{playlist.pk}/add/", {"id": [c.pk, a.pk]})
    client_logged_in.post(f"/playlists/{playlist.pk}/add/", {"id": [a.pk, b.pk, 999999]})
    assert order(playlist) == [c.pk, a.pk, b.pk]


@pytest.mark.django_db
def test_reorder_by_drag_and_by_buttons(client_logged_in, playlist):
    a, b, c = make_photo_row(), make_photo_row(), make_photo_row()
    playlists.add_photos(playlist=playlist, photo_ids=[a.pk, b.pk, c.pk])
    items = dict(PlaylistItem.objects.filter(playlist=playlist).values_list("photo_id", "pk"))
    response = client_logged_in.post(
        f"/playlists/{playlist.pk}/reorder/",
        {"id": [items[c.pk], items[a.pk], items[b.pk]]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and order(playlist) == [c.pk, a.pk, b.pk]
    client_logged_in.post(f"/playlists/{playlist.pk}/move/", {"item": items[b.pk], "direction": "up"})
    assert order(playlist) == [c.pk, b.pk, a.pk]
    client_logged_in.post(f"/playlists/{playlist.pk}/move/", {"item": items[c.pk], "direction": "bottom"})
    assert order(playlist) == [b.pk, a.pk, c.pk]
    client_logged_in.post(f"/playlists/{playlist.pk}/move/", {"item": items[b.pk], "direction": "up"})  # already first
    assert order(playlist) == [b.pk, a.pk, c.pk]


@pytest.mark.django_db
def test_a_followed_album_stays_in_sync_and_a_copied_one_does_not(client_logged_in, playlist):
    own = make_photo_row()
    playlists.add_photos(playlist=playlist, photo_ids=[own.pk])
    followed, copied = Album.objects.create(name="Summer"), Album.objects.create(name="Winter")
    first, later, snow, more_snow = make_photo_row(), make_photo_row(), make_photo_row(), make_photo_row()
    AlbumPhoto.objects.create(album=followed, photo=first)
    AlbumPhoto.objects.create(album=copied, photo=snow)
    client_logged_in.post(f"/playlists/{playlist.pk}/albums/", {"album": followed.pk, "mode": "follow"})
    client_logged_in.post(f"/playlists/{playlist.pk}/albums/", {"album": copied.pk, "mode": "copy"})
    assert order(playlist) == [own.pk, snow.pk, first.pk]
    AlbumPhoto.objects.create(album=followed, photo=later)
    AlbumPhoto.objects.create(album=copied, photo=more_snow)
    assert order(playlist) == [own.pk, snow.pk, first.pk, later.pk]
    AlbumPhoto.objects.filter(album=followed, photo=first).delete()
    assert order(playlist) == [own.pk, snow.pk, later.pk]
    assert playlist.contains_photo(later.pk) and not playlist.contains_photo(more_snow.pk)
    client_logged_in.post(f"/playlists/{playlist.pk}/albums/", {"unfollow": followed.pk})
    assert order(playlist) == [own.pk, snow.pk] and Album.objects.filter(pk=followed.pk).exists()


@pytest.mark.django_db
def test_removing_and_deleting_never_delete_photos(client_logged_in, playlist):
    a, b = make_photo_row(), make_photo_row()
    album = Album.objects.create(name="Summer")
    AlbumPhoto.objects.create(album=album, photo=b)
    playlists.add_photos(playlist=playlist, photo_ids=[a.pk, b.pk])
    PlaylistAlbum.objects.create(playlist=playlist, album=album)
    frame = Frame.objects.create(name="Hall frame", playlist=playlist)
    item = PlaylistItem.objects.get(playlist=playlist, photo=a)
    client_logged_in.post(f"/playlists/{playlist.pk}/remove/", {"id": [item.pk]})
    assert order(playlist) == [b.pk]
    page = client_logged_in.get(f"/playlists/{playlist.pk}/delete/")
    assertContains(page, "<h1>Delete the playlist “Hall”?</h1>", html=True)
    assertContains(
        page,
        "<p>The photos stay in your library. Frames showing this playlist show nothing until you give them another."
        "</p>",
        html=True,
    )
    assertNotContains(page, "stops working at once")  # the frame's wording is for frames only
    assertContains(page, '<button type="submit" class="button--danger">Delete playlist</button>', html=True)
    assertContains(page, f'<a class="button button--quiet" href="/playlists/{playlist.pk}/">Cancel</a>', html=True)
    assert Playlist.objects.filter(pk=playlist.pk).exists()
    response = client_logged_in.post(f"/playlists/{playlist.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/playlists/"
    assert not Playlist.objects.exists() and not PlaylistItem.objects.exists()
    assert Photo.objects.count() == 2 and Album.objects.get().photos.count() == 1
    frame.refresh_from_db()
    assert frame.playlist is None


@pytest.mark.django_db
def test_shuffle_is_stable_for_a_frame_until_the_playlist_changes(playlist):
    photos = [make_photo_row(width=1200, height=800) for _ in range(12)]
    playlists.add_photos(playlist=playlist, photo_ids=[p.pk for p in photos])
    Playlist.objects.filter(pk=playlist.pk).update(shuffle=True)
    frame = Frame.objects.create(name="Hall frame", playlist=playlist)

    def shown():
        return [s["photos"][0]["id"] for s in state.read_state(frame).message["slides"]]

    first = shown()
    assert sorted(first) == sorted(p.pk for p in photos) and first != [p.pk for p in photos]
    assert shown() == first


@pytest.mark.django_db
def test_playlist_page_lists_items_in_a_fixed_number_of_queries(
    client_logged_in, playlist, django_assert_max_num_queries
):
    playlists.add_photos(playlist=playlist, photo_ids=[make_photo_row().pk for _ in range(30)])
    with django_assert_max_num_queries(12):
        response = client_logged_in.get(f"/playlists/{playlist.pk}/")
    assert response.status_code == 200 and response.content.count(b'class="playlist-item"') == 30


@pytest.mark.django_db
def test_frame_settings_schedules_and_preview(client_logged_in, playlist):
    night = Playlist.objects.create(name="Night")
    frame = Frame.objects.create(name="Hall frame", playlist=playlist)
    data = {"frame-name": "Hall", "frame-playlist": playlist.pk, "frame-time_zone": "Europe/Berlin"}
    assert client_logged_in.post(f"/frames/{frame.pk}/", data).status_code == 302
    frame.refresh_from_db()
    assert (frame.name, frame.time_zone) == ("Hall", "Europe/Berlin")
    window = {
        "schedule-weekdays": ["0", "1"],
        "schedule-start": "22:00",
        "schedule-end": "06:00",
        "schedule-action": "playlist",
        "schedule-playlist": night.pk,
        "schedule-priority": 2,
    }
    assert client_logged_in.post(f"/frames/{frame.pk}/schedules/", window).status_code == 302
    schedule = FrameSchedule.objects.get()
    assert (schedule.weekdays, schedule.start, schedule.end) == ("01", time(22), time(6))
    page = client_logged_in.get(f"/frames/{frame.pk}/", {"weekday": 2, "at": "05:30"})  # Wednesday, from Tuesday night
    assert "Night" in page.context["preview"] and "priority 2" in page.context["preview"]
    page = client_logged_in.get(f"/frames/{frame.pk}/", {"weekday": 2, "at": "07:30"})
    assert "Hall" in page.context["preview"] and "default" in page.context["preview"]
    client_logged_in.post(f"/frames/{frame.pk}/schedules/", dict(window, **{"schedule-playlist": ""}))
    assert FrameSchedule.objects.count() == 1  # a playlist window needs its playlist
    client_logged_in.post(f"/frames/{frame.pk}/schedules/{schedule.pk}/delete/")
    assert not FrameSchedule.objects.exists()


@pytest.mark.django_db
def test_frames_page_lists_frames_with_status(client_logged_in, playlist):
    Frame.objects.create(name="Hall frame", playlist=playlist, screen_width=1920, screen_height=1080)
    response = client_logged_in.get("/frames/")
    text = response.content.decode()
    assert "Hall frame" in text and "1920×1080" in text and 'data-online="false"' in text
    assert 'ws-connect="/ws/frames/"' in text


@pytest.mark.django_db
def test_frames_page_query_count_does_not_grow_with_frames(client_logged_in, playlist, django_assert_max_num_queries):
    for number in range(10):
        Frame.objects.create(name=f"Frame {number}", playlist=playlist, showing=make_photo_row())
    with django_assert_max_num_queries(8):
        response = client_logged_in.get("/frames/")
    assert response.content.count(b'<li class="frame-card') == 10


@pytest.mark.django_db
def test_screens_snap_to_a_fixed_list_of_buckets(playlist):
    frames = [Frame.objects.create(name=f"Wall {n}", playlist=playlist) for n in range(4)]
    for frame, (width, height) in zip(frames, [(100000, 90000), (1080, 1920), (1366, 768), (800, 600)], strict=True):
        screens.record_screen(frame, width=width, height=height)
    assert sorted(DisplaySize.objects.values_list("width", "height")) == [
        (1024, 768),
        (1080, 1920),
        (1920, 1080),
        (3840, 2160),
    ]
    # A thousand odd screen sizes make no new display sizes.
    for width in range(1000, 2000):
        screens.record_screen(frames[0], width=width, height=width // 2)
    assert DisplaySize.objects.count() <= 6 and frames[0].display_size.width in (1280, 1920, 2560)
    assert screens.bucket_for(1, 1) == (1024, 768) and screens.bucket_for(3000, 5000) == (2160, 3840)
