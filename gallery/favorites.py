"""Favourites: each account stars photos for itself."""

from django.db import IntegrityError, transaction

from gallery.models import Favorite, Photo


def set_favorite(*, user, photo: Photo, favorite: bool) -> None:
    if favorite:
        try:
            with transaction.atomic():
                Favorite.objects.get_or_create(user=user, photo=photo)
        except IntegrityError:
            pass  # starred twice at once: it is starred
    else:
        Favorite.objects.filter(user=user, photo=photo).delete()
