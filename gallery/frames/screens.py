"""Frame screens and the display sizes rendered for them. Explicit steps, never side effects of a read: a frame
reports its screen (record_screen), and a change to what a frame shows asks for the renders it lacks
(request_display_renders).

A reported screen snaps to one of a fixed list of buckets, so a frame (or a stolen frame secret) cannot make the
renderer produce an output of any size it likes: the table of display sizes holds only buckets some frame uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from gallery.frames.models import Frame
from gallery.frames.state import read_state
from gallery.models import DisplaySize
from processing import jobs
from processing.specs import VARIANT, display_spec

logger = logging.getLogger(__name__)

# Common screens, landscape and portrait: 720p, 1080p, 1440p, 4K, and 4:3 tablets.
LANDSCAPE_BUCKETS = [(1024, 768), (1280, 720), (1920, 1080), (2560, 1440), (3840, 2160)]
BUCKETS = LANDSCAPE_BUCKETS + [(height, width) for width, height in LANDSCAPE_BUCKETS]
# Renders queued for one frame at a time; the rest follow on its next change or report.
MISSING_RENDERS_PER_FRAME = 100


def bucket_for(width: int, height: int) -> tuple[int, int]:
    """The smallest bucket that holds the whole screen, else the largest of the screen's orientation."""
    holding = [(w, h) for w, h in BUCKETS if w >= width and h >= height]
    if holding:
        return min(holding, key=lambda size: (size[0] * size[1], BUCKETS.index(size)))
    same_orientation = [(w, h) for w, h in BUCKETS if (w >= h) == (width >= height)]
    return max(same_orientation, key=lambda size: size[0] * size[1])


def record_screen(frame: Frame, *, width: int, height: int) -> None:
    """A frame told us its screen in physical pixels (CSS pixels x devicePixelRatio): remember it, and the bucket
    whose display size the renderer makes for it."""
    width, height = max(1, int(width)), max(1, int(height))
    size = DisplaySize.ensure(*bucket_for(width, height))
    if (frame.screen_width, frame.screen_height, frame.display_size_id) != (width, height, size.pk):
        frame.screen_width, frame.screen_height, frame.display_size = width, height, size
        Frame.objects.filter(pk=frame.pk).update(screen_width=width, screen_height=height, display_size=size)
        drop_unused_display_sizes()


def drop_unused_display_sizes() -> None:
    """Display sizes exist only for buckets some frame uses (variants already rendered stay)."""
    DisplaySize.objects.filter(frames__isnull=True).delete()


def request_display_renders(frame_ids: Iterable[int]) -> int:
    """Queue renders of the display size of each frame's bucket, for the photos it shows that lack a variant big
    enough (the frame shows the next-best size meanwhile). Returns how many renders were queued."""
    queued = 0
    frames = Frame.objects.filter(pk__in=list(frame_ids), secret_digest__isnull=False, display_size__isnull=False)
    for frame in frames.select_related("display_size"):
        state = read_state(frame)
        if not state.lacking:
            continue
        spec_name = display_spec(frame.display_size.width, frame.display_size.height).name
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
