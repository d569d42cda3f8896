"""Orientation-aware pairing of photos into slides. Pure: no ORM, no settings.

On a portrait frame, two landscape photos share the screen stacked; on a landscape frame, two portrait photos
stand side by side. A photo counts as landscape when width/height > 1.1 measured upright (after EXIF orientation
and the user's rotation), portrait when height/width > 1.1; nearly square photos always show alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RATIO = 1.1
SINGLE = "single"
STACKED = "stacked"  # two landscapes, one above the other, on a portrait frame
SIDE_BY_SIDE = "side-by-side"  # two portraits next to each other on a landscape frame


@dataclass(frozen=True)
class Shape:
    id: int
    width: int  # upright
    height: int

    @property
    def is_landscape(self) -> bool:
        return self.height > 0 and self.width / self.height > RATIO

    @property
    def is_portrait(self) -> bool:
        return self.width > 0 and self.height / self.width > RATIO


@dataclass(frozen=True)
class Slide:
    ids: tuple[int, ...]
    layout: str


def pair(shapes: Sequence[Shape], *, portrait_frame: bool) -> list[Slide]:
    """Slides in playlist order. A photo that suits the frame badly waits for the next such photo and shares
    its slide (at the first one's place); the last one without a partner shows alone."""

    def mismatched(shape: Shape) -> bool:
        return shape.is_landscape if portrait_frame else shape.is_portrait

    layout = STACKED if portrait_frame else SIDE_BY_SIDE
    slides: list[Slide] = []
    used: set[int] = set()
    for index, shape in enumerate(shapes):
        if index in used:
            continue
        used.add(index)
        if not mismatched(shape):
            slides.append(Slide((shape.id,), SINGLE))
            continue
        partner = next(
            (later for later in range(index + 1, len(shapes)) if later not in used and mismatched(shapes[later])),
            None,
        )
        if partner is None:
            slides.append(Slide((shape.id,), SINGLE))
        else:
            used.add(partner)
            slides.append(Slide((shape.id, shapes[partner].id), layout))
    return slides
