"""Frame screens and the display sizes rendered for them. Explicit steps, never side effects of a read: a frame
reports its screen (record_screen), and a change to what a frame shows asks for the renders it lacks
(request_display_renders)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from gallery.frames.models import Frame
from gallery.frames.state import read_state
from gallery.models import DisplaySize
from processing import jobs
from processing.specs import VARIANT, display_spec

logger = logging.getLogger(__name__)

# A display size a frame may add is at most this wide or tall (8K): beyond it, the largest variant shows.
MAX_SCREEN_SIDE = 8192
# Renders queued for one frame at a time; the rest follow on its next change or report.
MISSING_RENDERS_PER_FRAME = 100


def record_screen(frame: Frame, *, width: int, height: int) -> None:
    """A frame told us its screen in physical pixels (CSS pixels x devicePixelRatio); make sure some display size
    covers it."""
    width, height = max(1, min(int(width), MAX_SCREEN_SIDE)), max(1, min(int(height), MAX_SCREEN_SIDE))
    if (frame.screen_width, frame.screen_height) != (width, height):
        frame.screen_width, frame.screen_height = width, height
        Frame.objects.filter(pk=frame.pk).update(screen_width=width, screen_height=height)
    DisplaySize.ensure(width, height)


def request_display_renders(frame_ids: Iterable[int]) -> int:
    """Queue renders of the display size each frame needs, for the photos it shows that lack it (the frame shows the
    next-best size meanwhile). Returns how many renders were queued."""
    queued = 0
    sizes = DisplaySize.objects.sizes()
    for frame in Frame.objects.filter(pk__in=list(frame_ids), secret_digest__isnull=False):
        state = read_state(frame)
        size = DisplaySize.covering(*state.screen, sizes)
        if size is None or not state.lacking:
            continue
        spec_name = display_spec(*size).name
        queued_here = 0
        for photo in state.lacking:
            if queued_here >= MISSING_RENDERS_PER_FRAME:
                break
            if spec_name in photo.variants_by_name:
                continue
            try:
                if jobs.requeue(photo.pk, stages=[VARIANT], missing_only=True) == "queued":
                    queued_here += 1
            except Exception:  # Redis away: the frame's next change or report asks again
                logger.warning("Could not queue a display render for photo %s", photo.pk, exc_info=True)
                return queued + queued_here
        queued += queued_here
    return queued
