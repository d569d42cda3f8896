"""How frames hear about changes elsewhere: receivers connected in FramesConfig.ready()."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import pre_delete

from gallery.frames import events
from gallery.frames.state import frames_showing_photos
from gallery.models import Photo
from gallery.signals import photos_changed


def connect() -> None:
    photos_changed.connect(sync_frames_showing_photos, dispatch_uid="frames-photos-changed")
    pre_delete.connect(sync_frames_after_photo_deleted, sender=Photo, dispatch_uid="frames-photo-deleted")


def sync_frames_showing_photos(sender, photo_ids: list[int], **kwargs) -> None:
    """Photos were re-rendered, rotated, trashed or restored: frames that may show them sync (a trashed photo
    leaves their state at once)."""
    events.sync(frames_showing_photos(photo_ids))


def sync_frames_after_photo_deleted(sender, instance: Photo, **kwargs) -> None:
    # Its playlist rows go with it, so the frames to tell are found before the delete and told after commit.
    frame_ids = frames_showing_photos([instance.pk])
    if frame_ids:
        transaction.on_commit(lambda: events.sync(frame_ids))
