"""Pushes over the Channels layer: the gallery's group and message type, and the one way every push is sent.

A push carries full state (the re-rendered fragment), so a lost or repeated message does no harm; pages also catch
up from the database whenever their socket (re)connects. Frames keep their own group names in
gallery.frames.events and hear about photos through gallery.signals.photos_changed.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from gallery.fragments import photo_fragments
from gallery.models import Photo
from gallery.signals import photos_changed as photos_changed_signal

logger = logging.getLogger(__name__)

GALLERY_GROUP = "gallery"
PUSH_TYPE = "gallery.push"  # handled by GalleryConsumer.gallery_push
SESSION_END_TYPE = "session.end"  # handled by processing.consumers.UserSocket.session_end: the socket closes
CATCH_UP_LIMIT = 500


def send(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:  # a push is a hint: pages and frames re-sync from the database on reconnect
        logger.warning("Could not push to %s", group, exc_info=True)


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def end_sessions(user_id: int) -> None:
    """Close every open socket of this user (logged out, deactivated, password changed)."""
    send(user_group(user_id), {"type": SESSION_END_TYPE})


def photo_changed(photo_id: int) -> None:
    photos_changed([photo_id])


def photos_changed(photo_ids: list[int]) -> None:
    """Push the photos' tiles to every gallery page (a trashed one's tile is removed), and tell other features
    (frames) that they changed."""
    if not photo_ids:
        return
    html = photo_fragments(photo_ids)
    if html:
        send(GALLERY_GROUP, {"type": PUSH_TYPE, "html": html})
    for receiver, error in photos_changed_signal.send_robust(sender=Photo, photo_ids=list(photo_ids)):
        if isinstance(error, Exception):
            logger.warning("%s failed for photos %s", receiver, photo_ids[:10], exc_info=error)


def catch_up(pending_ids: list[int], after_id: int) -> str:
    """Fragments for photos the page shows as pending, and for photos newer than the page has."""
    return photo_fragments(pending_ids[:CATCH_UP_LIMIT], after_id=after_id, limit=CATCH_UP_LIMIT)
