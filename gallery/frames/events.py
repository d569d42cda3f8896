"""Frame group names and message types: this module only sends.

A frame's state depends on its own screen and schedule, so pushes to a frame are hints ("sync") that make its
consumer read the state from the database and send it whole; a lost or repeated hint does no harm, and every
(re)connect syncs anyway. The gallery's frames page gets re-rendered status fragments, swapped by id.
"""

from __future__ import annotations

from collections.abc import Iterable

from processing.events import send

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


def sync(frame_ids: Iterable[int]) -> None:
    """These frames read their state again."""
    for frame_id in frame_ids:
        send(frame_group(frame_id), {"type": SYNC_TYPE})


def command(frame_id: int, name: str) -> None:
    if name not in COMMANDS:
        raise ValueError(f"Unknown frame command {name!r}")
    send(frame_group(frame_id), {"type": COMMAND_TYPE, "command": name})


def revoked(frame_id: int) -> None:
    send(frame_group(frame_id), {"type": REVOKED_TYPE})


def paired(pairing_id: int) -> None:
    send(pairing_group(pairing_id), {"type": PAIRED_TYPE})


def status(html: str) -> None:
    """Re-rendered status fragments for the gallery's frames page."""
    if html:
        send(FRAMES_ADMIN_GROUP, {"type": STATUS_TYPE, "html": html})
