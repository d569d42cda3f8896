"""Frame group names and message types (the frames' half of processing.events).

A frame's state depends on its own screen and schedule, so pushes to a frame are hints ("sync") that make its
consumer read the state from the database and send it whole; a lost or repeated hint does no harm, and every
(re)connect syncs anyway. The gallery's frames page gets re-rendered status fragments, swapped by id.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from gallery.models import Photo

logger = logging.getLogger(__name__)

FRAMES_ADMIN_GROUP = "frames-admin"
SYNC_TYPE = "frame.sync"  # FrameConsumer.frame_sync: read the state from the database and send it
COMMAND_TYPE = "frame.command"  # FrameConsumer.frame_command: "next", "previous", "refresh"
REVOKED_TYPE = "frame.revoked"  # FrameConsumer.frame_revoked: tell the page, close the socket
PAIRED_TYPE = "frame.paired"  # FrameConsumer.frame_paired: an admin confirmed the code this browser shows
STATUS_TYPE = "frames.status"  # FramesAdminConsumer.frames_status: status fragments for the frames page
COMMANDS = ("next", "previous", "refresh")


def frame_group(frame_id: int) -> str:
    return f"frame-{frame_id}"


def pairing_group(pairing_id: int) -> str:
    return f"frame-pairing-{pairing_id}"


def _send(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:  # a push is a hint: frames and pages re-sync from the database on reconnect
        logger.warning("Could not push to %s", group, exc_info=True)


def frame_changed(frame_id: int) -> None:
    _send(frame_group(frame_id), {"type": SYNC_TYPE})
    status_changed(frame_id)


def frames_changed(frame_ids: list[int]) -> None:
    for frame_id in frame_ids:
        _send(frame_group(frame_id), {"type": SYNC_TYPE})


def playlists_changed(playlist_ids: set[int]) -> None:
    from gallery.frame_services import frames_showing_playlists

    frames_changed(frames_showing_playlists(set(playlist_ids)))


def photo_changed(photo_id: int) -> None:
    """A photo was rotated, re-rendered or deleted: frames that may show it sync."""
    from gallery.frame_services import playlists_with_photo

    try:
        playlists = playlists_with_photo(photo_id)
    except Exception:
        logger.warning("Could not find the playlists of photo %s", photo_id, exc_info=True)
        return
    playlists_changed(playlists)


def command(frame_id: int, name: str) -> None:
    if name not in COMMANDS:
        raise ValueError(f"Unknown frame command {name!r}")
    _send(frame_group(frame_id), {"type": COMMAND_TYPE, "command": name})


def revoked(frame_id: int) -> None:
    _send(frame_group(frame_id), {"type": REVOKED_TYPE})


def paired(pairing_id: int) -> None:
    _send(pairing_group(pairing_id), {"type": PAIRED_TYPE})


def status_changed(frame_id: int) -> None:
    from gallery.frame_services import frame_status_html

    html = frame_status_html([frame_id])
    if html:
        _send(FRAMES_ADMIN_GROUP, {"type": STATUS_TYPE, "html": html})


@receiver(pre_delete, sender=Photo, dispatch_uid="frames-photo-deleted")
def _photo_deleted(sender, instance: Photo, **kwargs) -> None:
    # Its playlist rows go with it, so the frames to tell are found before the delete and told after commit.
    # (Registered when gallery.frames or the websocket routing is imported, as every web process does.)
    from gallery.frame_services import frames_showing_playlists, playlists_with_photo

    frame_ids = frames_showing_playlists(playlists_with_photo(instance.pk))
    if frame_ids:
        transaction.on_commit(lambda: frames_changed(frame_ids))
