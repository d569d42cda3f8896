"""The only module that knows group names and message types.

A push carries full state (the re-rendered fragment), so a lost or repeated message does no harm;
pages also catch up from the database whenever their socket (re)connects.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from gallery.fragments import photo_fragments
from processing import frame_events

logger = logging.getLogger(__name__)

GALLERY_GROUP = "gallery"
PUSH_TYPE = "gallery.push"  # handled by GalleryConsumer.gallery_push
CATCH_UP_LIMIT = 500


def push(group: str, html: str) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": PUSH_TYPE, "html": html})
    except Exception:  # a push is a hint: the page re-syncs from the database on reconnect
        logger.warning("Could not push to %s", group, exc_info=True)


def photo_changed(photo_id: int) -> None:
    html = photo_fragments([photo_id])
    if html:
        push(GALLERY_GROUP, html)
    frame_events.photo_changed(photo_id)


def catch_up(pending_ids: list[int], after_id: int) -> str:
    """Fragments for photos the page shows as pending, and for photos newer than the page has."""
    return photo_fragments(pending_ids[:CATCH_UP_LIMIT], after_id=after_id, limit=CATCH_UP_LIMIT)
