"""Album services. Deleting an album or taking photos out of one never deletes a photo."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Prefetch, Subquery

from gallery.library import GRID_VARIANTS
from gallery.models import IN_LIBRARY_MEMBERSHIPS, Album, AlbumPhoto, Photo, Variant, album_name_key
from gallery.signals import albums_changed


class AlbumNameTaken(ValueError):
    def __init__(self, name: str):
        super().__init__(f"There is an album named “{name}” already (names ignore case).")


def name_taken(name: str, *, album: Album | None = None) -> Album | None:
    """The other album with this name, ignoring case."""
    others = Album.objects.filter(name_key=album_name_key(name))
    if album is not None:
        others = others.exclude(pk=album.pk)
    return others.first()


@transaction.atomic
def create_album(*, name: str, owner=None) -> Album:
    """A new album; AlbumNameTaken when the name is in use, ignoring case (also when two requests race: the unique
    name_key lets one in)."""
    name = name.strip()
    if other := name_taken(name):
        raise AlbumNameTaken(other.name)
    try:
        with transaction.atomic():
            return Album.objects.create(
                name=name, owner=owner if owner is not None and owner.is_authenticated else None
            )
    except IntegrityError:
        raise AlbumNameTaken(name) from None


@transaction.atomic
def rename_album(*, album: Album, name: str) -> Album:
    name = name.strip()
    if other := name_taken(name, album=album):
        raise AlbumNameTaken(other.name)
    album.name = name
    try:
        with transaction.atomic():
            album.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise AlbumNameTaken(name) from None
    return album


def _tell_followers(album: Album) -> None:
    """Whoever follows the album (a frame's playlist) hears of the change; receivers act once it has committed
    (and find their followers now, before a deleted album's links are gone)."""
    albums_changed.send_robust(sender=Album, album_ids=[album.pk])


@transaction.atomic
def delete_album(*, album: Album) -> None:
    """Delete the album and its memberships; the photos stay in the library."""
    _tell_followers(album)
    AlbumPhoto.objects.filter(album=album).delete()
    album.delete()


@transaction.atomic
def add_photos(*, album: Album, photo_ids: list[int]) -> int:
    """Add photos to an album; photos already in it are left alone. Returns how many were added."""
    ids = set(Photo.objects.filter(pk__in=photo_ids).values_list("pk", flat=True))
    ids -= set(AlbumPhoto.objects.filter(album=album, photo_id__in=ids).values_list("photo_id", flat=True))
    AlbumPhoto.objects.bulk_create([AlbumPhoto(album=album, photo_id=pk) for pk in sorted(ids)], ignore_conflicts=True)
    _tell_followers(album)
    return len(ids)


@transaction.atomic
def remove_photos(*, album: Album, photo_ids: list[int]) -> int:
    removed, _ = AlbumPhoto.objects.filter(album=album, photo_id__in=photo_ids).delete()
    _tell_followers(album)
    if album.cover_id in set(photo_ids):
        album.cover = None
        album.save(update_fields=["cover", "updated_at"])
    return removed


def set_cover(*, album: Album, photo: Photo | None) -> Album:
    """Choose a cover from the album's photos, or None for automatic (the photo added last)."""
    if photo is not None and not AlbumPhoto.objects.filter(album=album, photo=photo).exists():
        raise ValueError("The cover must be a photo in the album.")
    album.cover = photo
    album.save(update_fields=["cover", "updated_at"])
    return album


def albums_with_covers(queryset=None):
    """Albums (all, or these) with `photo_count` and `cover_photo` (chosen, else the photo added last), in three
    queries."""
    newest = (
        AlbumPhoto.objects.in_library().filter(album=OuterRef("pk")).order_by("-added_at", "-id").values("photo_id")[:1]
    )
    albums = list(
        (Album.objects.all() if queryset is None else Album.objects.filter(pk__in=[a.pk for a in queryset])).annotate(
            photo_count=Count("memberships", filter=IN_LIBRARY_MEMBERSHIPS), newest_photo_id=Subquery(newest)
        )
    )
    cover_ids = {album.cover_id or album.newest_photo_id for album in albums} - {None}
    variants = Prefetch("variants", queryset=Variant.objects.filter(name__in=GRID_VARIANTS))
    covers = Photo.objects.filter(pk__in=cover_ids).prefetch_related(variants).in_bulk() if cover_ids else {}
    for album in albums:
        album.cover_photo = covers.get(album.cover_id or album.newest_photo_id)
    return albums
