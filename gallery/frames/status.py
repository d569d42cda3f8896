"""Whether a frame is online, what it last showed, and the status fragments of the gallery's frames page."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import timezone

from gallery.frames import events, state
from gallery.frames.models import Frame

# A frame is online while a socket is open and a heartbeat came within this many seconds (frames beat every 30).
ONLINE_WITHIN = 90


def is_online(frame: Frame, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(frame.connections and frame.last_seen_at and (now - frame.last_seen_at).total_seconds() < ONLINE_WITHIN)


def record_heartbeat(frame_id: int, *, showing: int | None = None, connected: int = 0) -> bool:
    """A heartbeat or a new photo on screen; `connected` is +1 on connect and -1 on disconnect. The photo must be
    one the frame may show now (else it is not recorded). Returns whether what the frames page shows changed
    (online, the photo on screen), so a plain heartbeat is not broadcast to every admin page."""
    frame = Frame.objects.filter(pk=frame_id).first()
    if frame is None:
        return False
    now = timezone.now()
    was_online = is_online(frame, now)
    fields: dict = {"last_seen_at": now}
    changed = bool(connected) or not was_online
    if showing is not None and showing != frame.showing_id:
        fields["showing_id"] = showing if state.frame_may_see_photo(frame, showing) else None
        changed = changed or fields["showing_id"] != frame.showing_id
    if connected:
        fields["connections"] = Greatest(F("connections") + connected, 0)
    else:
        # A heartbeat proves a socket is open, even after the minute job wrote a silent frame off.
        fields["connections"] = Greatest(F("connections"), 1)
    Frame.objects.filter(pk=frame_id).update(**fields)
    return changed


def status_html(frame_ids: list[int] | None = None) -> str:
    """The frames page's status fragments: of these frames, or of all."""
    frames = Frame.objects.select_related("playlist", "showing").prefetch_related("showing__variants")
    if frame_ids is not None:
        frames = frames.filter(pk__in=frame_ids)
    now = timezone.now()
    return "".join(
        render_to_string("frames/_frame_status.html", {"frame": frame, "online": is_online(frame, now)})
        for frame in frames
    )


def push_status(frame_id: int) -> None:
    events.status(status_html([frame_id]))


def mark_silent_frames_offline(now: datetime) -> None:
    """Frames that went quiet without closing their socket (a dead connection, a server that restarted) are
    offline until they beat again."""
    for frame in Frame.objects.filter(secret_digest__isnull=False, connections__gt=0):
        if not is_online(frame, now):
            Frame.objects.filter(pk=frame.pk).update(connections=0)
            push_status(frame.pk)
