"""Favourites: each account stars photos for itself."""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet

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


def with_favorites(photos: QuerySet[Photo], user) -> QuerySet[Photo]:
    """Annotate `is_favorite`: whether `user` starred each photo (a subquery in the same query, not one per photo)."""
    return photos.annotate(is_favorite=Exists(Favorite.objects.filter(photo=OuterRef("pk"), user_id=user.pk)))


def is_favorite(*, user, photo: Photo) -> bool:
    return Favorite.objects.filter(user_id=user.pk, photo=photo).exists()
