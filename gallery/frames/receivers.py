"""How frames hear about changes elsewhere: receivers connected in FramesConfig.ready()."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import pre_delete

from gallery.frames import events, screens
from gallery.frames.state import frames_following_albums, frames_showing_photos
from gallery.models import Photo
from gallery.signals import albums_changed, display_sizes_wanted, photos_changed


def connect() -> None:
    photos_changed.connect(sync_frames_showing_photos, dispatch_uid="frames-photos-changed")
    pre_delete.connect(sync_frames_after_photo_deleted, sender=Photo, dispatch_uid="frames-photo-deleted")
    display_sizes_wanted.connect(display_sizes_frames_need, dispatch_uid="frames-display-sizes")
    albums_changed.connect(frames_following_albums_changed, dispatch_uid="frames-albums-changed")


def sync_frames_showing_photos(sender, photo_ids: list[int], **kwargs) -> None:
    """Photos were re-rendered, rotated, trashed or restored: frames that may show them sync (a trashed photo
    leaves their state at once)."""
    events.sync(frames_showing_photos(photo_ids))


def sync_frames_after_photo_deleted(sender, instance: Photo, **kwargs) -> None:
    # Its playlist rows go with it, so the frames to tell are found before the delete and told after commit.
    frame_ids = frames_showing_photos([instance.pk])
    if frame_ids:
        transaction.on_commit(lambda: events.sync(frame_ids))


def display_sizes_frames_need(sender, photo_ids: list[int], **kwargs) -> dict[int, set[tuple[int, int]]]:
    """Each photo's display sizes: the buckets of the frames that show it, now or by schedule."""
    return screens.display_sizes_needed(photo_ids)


def frames_following_albums_changed(sender, album_ids: list[int], **kwargs) -> None:
    """Photos joined or left albums: frames whose playlists follow them sync, and render what they now lack."""
    frame_ids = frames_following_albums(album_ids)
    if frame_ids:
        transaction.on_commit(lambda: screens.tell_frames(frame_ids), robust=True)
