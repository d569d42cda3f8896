import math
from datetime import timedelta

from django import template
from django.conf import settings
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.timesince import timesince

from gallery.library import Cursor

register = template.Library()


@register.filter
def exposure(photo) -> str:
    """ "1/250 s · f/2.8 · ISO 100 · 35 mm" from whatever the camera recorded."""
    parts = []
    if photo.exposure_time:
        parts.append(photo.exposure_time if photo.exposure_time.endswith("s") else f"{photo.exposure_time} s")
    if photo.aperture:
        parts.append(f"f/{photo.aperture:g}")
    if photo.iso:
        parts.append(f"ISO {photo.iso}")
    if photo.focal_length:
        parts.append(f"{photo.focal_length:g} mm")
    return " · ".join(parts)


@register.filter
def sort_key(photo) -> str:
    """The photo's place in library order, written as a page cursor (gallery.library.Cursor): scripts put a tile
    where a reload would show it."""
    return Cursor(photo.taken_at or photo.created_at, photo.pk).encode()


@register.filter
def days_left(photo) -> str:
    """How long a photo in the trash has before it is deleted for good (GLOWWORM_TRASH_DAYS after it went in)."""
    seconds = (photo.trashed_at + timedelta(days=settings.GLOWWORM_TRASH_DAYS) - timezone.now()).total_seconds()
    left = math.ceil(seconds / 86400)
    if left <= 1:
        return "Deleted within a day"
    return f"{left} day{pluralize(left)} left"


@register.filter
def undo_ids(message) -> str:
    """The ids of photos a message says were moved to the trash (gallery.views.trashed), for its Undo form."""
    for tag in (message.extra_tags or "").split():
        if tag.startswith("undo:"):
            return tag.removeprefix("undo:")
    return ""


@register.filter
def ago(moment) -> str:
    """ "just now" under a minute, else "5 minutes ago", "2 hours ago"."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment).split(',')[0]} ago"


# The justified grid needs each tile's shape in CSS (--ar) before its image loads, and the Content-Security-Policy
# allows no style attributes: so tiles carry one of a fixed set of classes, each photo's width / height rounded on
# a log scale to 1/40 e-fold (at most 1.3 % off, which object-fit: cover crops unseen), from 1:4 to 4:1.
ASPECT_STEPS_PER_E = 40
ASPECT_LIMIT = round(math.log(4) * ASPECT_STEPS_PER_E)


def aspect_step(width: int, height: int) -> int:
    if not width or not height:
        return 0
    step = round(math.log(width / height) * ASPECT_STEPS_PER_E)
    return max(-ASPECT_LIMIT, min(ASPECT_LIMIT, step))


@register.filter
def aspect(photo) -> str:
    """The class that gives a tile its photo's shape in the justified grid (static/css/aspect.css)."""
    return f"ar{aspect_step(photo.width, photo.height) + ASPECT_LIMIT}"


def aspect_css() -> str:
    """static/css/aspect.css, the classes `aspect` names (tests/test_library_find.py checks the file is this)."""
    lines = ["/* Tile shapes for the justified grid: written by gallery_extras.aspect_css(), do not edit. */"]
    for step in range(-ASPECT_LIMIT, ASPECT_LIMIT + 1):
        lines.append(f".ar{step + ASPECT_LIMIT} {{ --ar: {math.exp(step / ASPECT_STEPS_PER_E):.4f}; }}")
    return "\n".join(lines) + "\n"


@register.filter
def before(url: str, cursor: Cursor) -> str:
    """`url` (with or without a query) asking for the page that starts at `cursor`."""
    return f"{url}{'&' if '?' in url else '?'}before={cursor.encode()}"


@register.filter
def after(url: str, cursor: Cursor) -> str:
    """`url` asking for the photos just newer than `cursor` (scrolling up after a jump)."""
    return f"{url}{'&' if '?' in url else '?'}after={cursor.encode()}"
