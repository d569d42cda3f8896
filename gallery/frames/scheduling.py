"""Applying schedules: the minute job that pushes each frame whose program changed, and a frame's settings
taking effect at once. Which program a frame runs is read in gallery.frames.state."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from gallery.frames import screens, status
from gallery.frames.models import Frame
from gallery.frames.state import program


def apply_schedules(now: datetime | None = None) -> int:
    """The minute job (gallery/frames/cron.py): push each frame whose scheduled program changed; also report frames
    that went quiet without closing their socket. Returns how many frames changed program."""
    now = now or timezone.now()
    changed = 0
    for frame in Frame.objects.filter(secret_digest__isnull=False):
        key = program(frame, now).key
        if key != frame.schedule_state:
            Frame.objects.filter(pk=frame.pk).update(schedule_state=key)
            screens.tell_frames([frame.pk])
            status.push_status(frame.pk)
            changed += 1
    status.mark_silent_frames_offline(now)
    return changed


def settings_changed(frame: Frame) -> None:
    """The frame's default playlist, time zone or schedule changed: apply at once, not at the next minute."""
    Frame.objects.filter(pk=frame.pk).update(schedule_state=program(frame).key)
    frame_id = frame.pk

    def tell_the_frame() -> None:
        screens.tell_frames([frame_id])
        status.push_status(frame_id)

    transaction.on_commit(tell_the_frame, robust=True)
