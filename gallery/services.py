"""Multi-step writes on photos: ingesting uploads, deleting, rotating."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from gallery import storage, trash
from gallery.files import clean_file_name
from gallery.models import Photo
from gallery.uploads import Refusal, UploadRejected, storage_unavailable
from processing import imaging, jobs


@dataclass
class IngestResult:
    photo: Photo
    created: bool
    restored: bool = False  # it was in the trash, and the upload brought it back


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_upload(
    *, upload: UploadedFile, user=None, origin: str = jobs.UPLOAD, details: dict | None = None
) -> IngestResult:
    """Check an uploaded file, store it under a generated name and queue its render (on the bulk queue for an
    import: origin=jobs.BULK). `details` are Photo fields known from elsewhere (an import's sidecar date), saved with
    the new row so the render sees them.

    Raises UploadRejected with a message for a person; nothing is stored then.
    """
    if upload.size == 0:
        raise UploadRejected(Refusal.EMPTY, "The file is empty.")
    temporary_path = upload.temporary_file_path()
    try:
        probe = imaging.probe(temporary_path, max_pixels=settings.GLOWWORM_MAX_PIXELS)
    except imaging.ImageRejected as exc:
        raise UploadRejected.from_image(exc) from None

    # Hashed while it streamed in (gallery.uploads) or by the import before it copied the file (gallery.importing); a
    # file handed over some other way is read once here.
    sha256 = getattr(upload, "sha256", None) or sha256_of(temporary_path)
    existing = Photo.all_objects.filter(sha256=sha256).first()
    if existing:
        restored = existing.trashed_at is not None and bool(trash.restore_photos(photo_ids=[existing.pk]))
        if restored:
            existing.refresh_from_db()
        return IngestResult(photo=existing, created=False, restored=restored)

    location = storage.default_location()
    photo = Photo(
        sha256=sha256,
        original_name=clean_file_name(upload.name),
        format=probe.format,
        file_size=upload.size,
        width=probe.width,
        height=probe.height,
        original_location=location,
        uploaded_by=user if user is not None and user.is_authenticated else None,
        **(details or {}),
    )
    photo.original = storage.original_name_for(photo.key.hex, probe.format)
    # The file goes into place first (moved under MEDIA_ROOT, or sent to the bucket once, outside any transaction so
    # a long transfer holds no database lock), then the row; whatever fails after the file is stored removes it.
    try:
        storage.store_file(temporary_path, photo.original, location=location)
    except storage.StorageUnavailable:
        raise storage_unavailable() from None
    try:
        with transaction.atomic():
            photo.save()
            # robust: a Redis hiccup must not turn a stored upload into an error; the sweeper re-enqueues.
            transaction.on_commit(lambda: jobs.enqueue_render(photo.pk, origin=origin), robust=True)
    except IntegrityError:
        # Two identical uploads raced: the unique index let exactly one in.
        _remove_quietly(photo.original, location)
        existing = Photo.all_objects.filter(sha256=sha256).first()
        if existing is None:
            raise
        return IngestResult(photo=existing, created=False)
    except BaseException:
        _remove_quietly(photo.original, location)
        raise
    return IngestResult(photo=photo, created=True)


def _remove_quietly(name: str, location: str) -> None:
    try:
        storage.delete_file(name, location)
    except storage.StorageUnavailable:
        pass  # cleanup_media finds an object no row names


def rerender_photo(*, photo: Photo) -> None:
    """Render the photo again (Retry): at once, or after the render under way."""
    jobs.requeue(photo.pk, after_current=True)


@transaction.atomic
def rotate_photo(*, photo: Photo, degrees: int) -> Photo:
    """Turn a photo by a quarter turn (90 clockwise, -90 counter-clockwise) and queue a re-render.

    The original file is never touched: the rotation is recorded and the renderer applies it after EXIF
    orientation. Width and height swap at once so tiles keep the right shape until the new variants land.
    """
    if degrees not in (90, -90, 180):
        raise ValueError("Rotate by 90, -90 or 180 degrees.")
    photo = Photo.objects.select_for_update().get(pk=photo.pk)
    photo.rotation = (photo.rotation + degrees) % 360
    if degrees != 180:
        photo.width, photo.height = photo.height, photo.width
    photo.save(update_fields=["rotation", "width", "height", "updated_at"])
    jobs.requeue(photo.pk, after_current=True)
    photo.refresh_from_db()
    return photo
