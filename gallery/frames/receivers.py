"""How frames hear about changes elsewhere: receivers connected in FramesConfig.ready()."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import pre_delete

from gallery.frames import events
from gallery.frames.state import frames_showing_photo
from gallery.models import Photo
from gallery.signals import photo_changed


def connect() -> None:
    photo_changed.connect(sync_frames_showing_photo, dispatch_uid="frames-photo-changed")
    pre_delete.connect(sync_frames_after_photo_deleted, sender=Photo, dispatch_uid="frames-photo-deleted")


def sync_frames_showing_photo(sender, photo_id: int, **kwargs) -> None:
    """A photo was rotated or re-rendered: frames that may show it sync."""
    events.sync(frames_showing_photo(photo_id))


def sync_frames_after_photo_deleted(sender, instance: Photo, **kwargs) -> None:
    # Its playlist rows go with it, so the frames to tell are found before the delete and told after commit.
    frame_ids = frames_showing_photo(instance.pk)
    if frame_ids:
        transaction.on_commit(lambda: events.sync(frame_ids))
