"""Frame screens and the display sizes rendered for them. Explicit steps, never side effects of a read: a frame
reports its screen (record_screen), and a change to what a frame shows asks for the renders it lacks
(request_display_renders).

A reported screen snaps to one of a fixed list of buckets, so a frame (or a stolen frame secret) cannot make the
renderer produce an output of any size it likes: the table of display sizes holds only buckets some frame uses.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from gallery.frames import events
from gallery.frames.models import Frame, Playlist
from gallery.frames.state import display_name_of, playlists_of, read_state
from gallery.models import DisplaySize
from processing import jobs

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
    """Queue the display size of each frame's bucket for the ready photos it shows that lack a variant big enough
    (the frame shows the next-best size meanwhile; photos still rendering get it from their own render). Returns
    how many photos were queued."""
    queued = 0
    frames = Frame.objects.filter(pk__in=list(frame_ids), secret_digest__isnull=False, display_size__isnull=False)
    for frame in frames.select_related("display_size"):
        spec_name = display_name_of(frame)
        lacking = [photo for photo in read_state(frame).lacking if spec_name not in photo.variants_by_name]
        for photo in lacking[:MISSING_RENDERS_PER_FRAME]:
            try:
                queued += jobs.enqueue_display(photo.pk)
            except Exception:  # Redis away: the frame's next change or report asks again
                logger.warning("Could not queue display sizes for photo %s", photo.pk, exc_info=True)
                return queued
    return queued


def tell_frames(frame_ids: list[int]) -> None:
    """What these frames show changed: they read their state again, and what they now lack is rendered."""
    events.sync(frame_ids)
    request_display_renders(frame_ids)


def display_sizes_needed(photo_ids: list[int]) -> dict[int, set[tuple[int, int]]]:
    """For each of these photos, the display size buckets of the frames that show it (its playlist now or by
    schedule, followed albums included): what the renderer makes for it beyond the sizes every photo gets."""
    wanted: dict[int, set[tuple[int, int]]] = defaultdict(set)
    frames = Frame.objects.filter(secret_digest__isnull=False, display_size__isnull=False).select_related(
        "display_size"
    )
    asked = set(photo_ids)
    for frame in frames:
        size = (frame.display_size.width, frame.display_size.height)
        for playlist in Playlist.objects.filter(pk__in=playlists_of(frame)):
            for photo_id in asked.intersection(playlist.photo_ids()):
                wanted[photo_id].add(size)
    return wanted
