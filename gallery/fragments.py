"""Photo fragments rendered outside a request: websocket pushes and catch-up."""

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.html import format_html

from gallery.models import Photo

TILE_TEMPLATE = "gallery/_photo.html"


def photo_fragments(photo_ids: list[int], *, after_id: int | None = None, limit: int = 500) -> str:
    """Tiles of these photos (and of photos newer than after_id) in the library; for those no longer in it
    (trashed, purged) an element that removes their tile."""
    condition = Q(pk__in=photo_ids)
    if after_id is not None:
        condition |= Q(pk__gt=after_id)
    photos = list(Photo.objects.filter(condition).prefetch_related("variants").order_by("id")[:limit])
    shown = {photo.pk for photo in photos}
    gone = [pk for pk in dict.fromkeys(photo_ids) if pk not in shown][:limit]
    return "".join(render_to_string(TILE_TEMPLATE, {"photo": photo}) for photo in photos) + "".join(
        format_html('<div id="photo-{}" hx-swap-oob="delete"></div>', pk) for pk in gone
    )
