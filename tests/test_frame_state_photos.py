"""What a frame's state holds, read by joins from the playlist (gallery/frames/state.py shown_photos): the
playlist's own items and its followed albums' photos once each, in playlist order, without failed, trashed or
not-yet-rendered photos, each with the variant that covers the frame and its URL."""

import secrets

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery.frames import state
from gallery.frames.models import Frame, Playlist, PlaylistAlbum, PlaylistItem
from gallery.models import Album, AlbumPhoto, DisplaySize, Photo, Variant, hash_token
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


def shown(frame):
    return [(p["id"], p["src"], p["width"]) for s in state.read_state(frame).message["slides"] for p in s["photos"]]


def test_a_frame_shows_items_then_followed_albums_once_each_with_the_covering_variant():
    playlist = Playlist.objects.create(name="Hall")
    frame = Frame.objects.create(
        name="Wall", playlist=playlist, secret_digest=hash_token(secrets.token_urlsafe(32)), screen_width=1920,
        screen_height=1080,
    )  # fmt: skip
    first, second, in_both, failed, trashed, queued, elsewhere = (make_photo_row() for _ in range(7))
    Photo.objects.filter(pk=failed.pk).update(status=Photo.Status.FAILED)
    Photo.objects.filter(pk=trashed.pk).update(trashed_at=timezone.now())
    Variant.objects.filter(photo=queued).delete()
    Photo.objects.filter(pk=queued.pk).update(status=Photo.Status.QUEUED)
    display = Variant.objects.create(
        photo=second, name="display-1920x1080", file="variants/x/second display.jpg", width=1620, height=1080,
        format="JPEG", bytes=9,
    )  # fmt: skip
    for position, photo in enumerate([second, in_both, failed, trashed, queued]):
        PlaylistItem.objects.create(playlist=playlist, photo=photo, position=position)
    album = Album.objects.create(name="Summer")
    PlaylistAlbum.objects.create(playlist=playlist, album=album)
    for photo in (in_both, first):
        AlbumPhoto.objects.create(album=album, photo=photo)
    AlbumPhoto.objects.create(album=Album.objects.create(name="Not followed"), photo=elsewhere)

    preview = {photo.pk: photo.variants.get(name="preview") for photo in (first, in_both)}
    assert shown(frame) == [
        (second.pk, reverse("frame-variant", args=[display.pk, "second display.jpg"]), 1620),
        (in_both.pk, reverse("frame-variant", args=[preview[in_both.pk].pk, preview[in_both.pk].basename]), 2048),
        (first.pk, reverse("frame-variant", args=[preview[first.pk].pk, preview[first.pk].basename]), 2048),
    ]
    # The URL a frame is given is the one its variant view answers (the name quoted as reverse() quotes it).
    assert "second%20display.jpg" in shown(frame)[0][1]


def test_a_ready_photo_without_a_covering_variant_is_lacking_and_shows_its_largest():
    playlist = Playlist.objects.create(name="Hall")
    frame = Frame.objects.create(name="Wall", playlist=playlist, screen_width=3840, screen_height=2160)
    photo = make_photo_row(width=6000, height=4000)
    PlaylistItem.objects.create(playlist=playlist, photo=photo)
    result = state.read_state(frame)
    assert [p["width"] for s in result.message["slides"] for p in s["photos"]] == [2048]
    assert [lacking.pk for lacking in result.lacking] == [photo.pk]
    assert set(result.lacking[0].variants_by_name) == {"thumb", "thumb2x", "preview"}


def test_a_photo_with_the_frames_display_size_is_read_with_it_alone_and_one_without_with_every_variant():
    playlist = Playlist.objects.create(name="Hall")
    size = DisplaySize.ensure(1920, 1080)
    frame = Frame.objects.create(name="Wall", playlist=playlist, screen_width=1920, screen_height=1080,
                                 display_size=size)  # fmt: skip
    rendered, waiting = make_photo_row(width=6000, height=4000), make_photo_row(width=6000, height=4000)
    Variant.objects.create(
        photo=rendered, name="display-1920x1080", file="variants/x/display.jpg", width=1620, height=1080,
        format="JPEG", bytes=9,
    )  # fmt: skip
    Variant.objects.create(
        photo=waiting, name="display-3840x2160", file="variants/x/other-frame.jpg", width=3240, height=2160,
        format="JPEG", bytes=9,
    )  # fmt: skip
    for position, photo in enumerate([rendered, waiting]):
        PlaylistItem.objects.create(playlist=playlist, photo=photo, position=position)

    photos = state.shown_photos(playlist, state.display_name_of(frame))
    assert set(photos[rendered.pk].variants_by_name) == {"display-1920x1080"}
    assert set(photos[waiting.pk].variants_by_name) == {"thumb", "thumb2x", "preview", "display-3840x2160"}
    # Without its display size, the smallest variant that covers the screen: the preview, not the 4K render.
    assert [p["width"] for s in state.read_state(frame).message["slides"] for p in s["photos"]] == [1620, 2048]
    assert state.display_name_of(Frame(name="Not reported yet")) is None
