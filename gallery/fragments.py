"""Photo fragments rendered outside a request: websocket pushes and catch-up."""

from django.db.models import Q
from django.template.loader import render_to_string

from gallery.models import Photo


def photo_fragments(photo_ids: list[int], *, after_id: int | None = None, limit: int = 500) -> str:
    condition = Q(pk__in=photo_ids)
    if after_id is not None:
        condition |= Q(pk__gt=after_id)
    photos = Photo.objects.filter(condition).prefetch_related("variants").order_by("id")[:limit]
    return "".join(render_to_string("gallery/_photo.html", {"photo": photo}) for photo in photos)
