"""The trash: every delete moves photos here; they leave the library, albums, search, duplicates, zips and frames
at once (Photo.objects does not see them), keep their files and memberships, and come back with restore. Delete
forever (purge) removes the rows and then the files; the cron purges what has been in the trash longer than
GLOWWORM_TRASH_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gallery import permissions, storage
from gallery.models import Photo
from processing import events


def _tell_pages_and_frames(photo_ids: list[int]) -> None:
    if photo_ids:
        transaction.on_commit(lambda: events.photos_changed(photo_ids), robust=True)


def _allowed(photo_ids: list[int], user) -> list[int]:
    """Of these photos, those `user` may trash, restore or purge (all of them for the system: user None)."""
    return list(photo_ids) if user is None else permissions.trashable_ids(user, photo_ids)


@transaction.atomic
def trash_photos(*, photo_ids: list[int], user=None) -> list[int]:
    """Move these photos to the trash; photos already there keep the time they went in. A member moves only their
    own photos. Returns the ids moved."""
    ids = list(Photo.objects.filter(pk__in=_allowed(photo_ids, user)).values_list("pk", flat=True))
    by = user if user is not None and user.is_authenticated else None
    Photo.all_objects.filter(pk__in=ids).update(trashed_at=timezone.now(), trashed_by=by)
    _tell_pages_and_frames(ids)
    return ids


@transaction.atomic
def restore_photos(*, photo_ids: list[int], user=None) -> list[int]:
    """Bring photos back from the trash, into every album and playlist they were in. Returns the ids restored."""
    ids = list(Photo.all_objects.in_trash().filter(pk__in=_allowed(photo_ids, user)).values_list("pk", flat=True))
    Photo.all_objects.filter(pk__in=ids).update(trashed_at=None, trashed_by=None)
    _tell_pages_and_frames(ids)
    return ids


def purge_photos(*, photo_ids: list[int], user=None) -> int:
    """Delete photos forever, trashed or not: the rows (and their variant, album and playlist rows), then their
    files once that has committed. Returns how many were purged."""
    purged = 0
    for photo in Photo.all_objects.filter(pk__in=_allowed(photo_ids, user)):
        files = [(photo.original, photo.original_location), *photo.variants.values_list("file", "location")]
        with transaction.atomic():
            photo_id = photo.pk
            photo.delete()
            transaction.on_commit(lambda files=files: _delete_files(files))
            _tell_pages_and_frames([photo_id])
        purged += 1
    return purged


def _delete_files(files: list[tuple[str, str]]) -> None:
    for name, location in files:
        try:
            storage.delete_file(name, location)
        except storage.StorageUnavailable:
            pass  # left in the bucket for cleanup_media; the rows are gone either way


def purge_expired(now: datetime | None = None) -> int:
    """The daily job (gallery/cron.py): purge what has been in the trash longer than GLOWWORM_TRASH_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.GLOWWORM_TRASH_DAYS)
    ids = list(Photo.all_objects.filter(trashed_at__lte=cutoff).values_list("pk", flat=True))
    return purge_photos(photo_ids=ids)
