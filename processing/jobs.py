"""RQ jobs. They take primary keys, claim work with a conditional UPDATE and are safe to run twice."""

from __future__ import annotations

import logging

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gallery import storage
from gallery.models import Photo, Variant
from processing import events, imaging
from processing.specs import THUMBNAIL, Spec, build_specs

logger = logging.getLogger(__name__)

QUEUE = "default"


def current_specs() -> tuple[Spec, ...]:
    return build_specs(settings.GLOWWORM_DISPLAY_SIZES, settings.GLOWWORM_DISPLAY_FORMAT)


def render_job_id(photo_id: int) -> str:
    return f"render-photo-{photo_id}"


def enqueue_render(photo_id: int) -> None:
    django_rq.get_queue(QUEUE).enqueue(
        render_photo, photo_id, job_id=render_job_id(photo_id), job_timeout=600, result_ttl=600, failure_ttl=86400
    )


def save_variant(photo: Photo, output: imaging.Output) -> Variant:
    """Write the new file first, then switch the row, then remove the old file."""
    relative = storage.variant_name_for(photo.key.hex, output.spec.name, output.spec.extension)
    storage.write_bytes(relative, output.data)
    old_file = None
    try:
        with transaction.atomic():
            variant = Variant.objects.select_for_update().filter(photo=photo, name=output.spec.name).first()
            if variant is None:
                variant = Variant(photo=photo, name=output.spec.name)
            else:
                old_file = variant.file
            variant.file = relative
            variant.width = output.width
            variant.height = output.height
            variant.format = output.spec.format
            variant.bytes = len(output.data)
            variant.created_at = timezone.now()
            variant.save()
    except BaseException:
        storage.delete_file(relative)
        raise
    if old_file and old_file != relative:
        storage.delete_file(old_file)
    return variant


def _fail(photo_id: int, reason: str) -> None:
    Photo.objects.filter(pk=photo_id).update(status=Photo.Status.FAILED, error=reason[:500], updated_at=timezone.now())
    events.photo_changed(photo_id)


def render_photo(photo_id: int) -> str:
    claimed = Photo.objects.filter(pk=photo_id, status=Photo.Status.QUEUED).update(
        status=Photo.Status.PROCESSING, render_started_at=timezone.now(), error="", updated_at=timezone.now()
    )
    if not claimed:
        return "not queued; nothing to do"
    events.photo_changed(photo_id)
    photo = Photo.objects.get(pk=photo_id)
    specs = current_specs()
    thumbnails = [spec for spec in specs if spec.stage == THUMBNAIL]
    try:
        with imaging.Source(storage.media_path(photo.original), max_pixels=settings.GLOWWORM_MAX_PIXELS) as source:
            meta = source.metadata
            for output in source.render(specs):
                save_variant(photo, output)
                if output.spec == thumbnails[-1]:
                    fields = {name: getattr(meta, name) for name in meta.__dataclass_fields__}
                    Photo.objects.filter(pk=photo_id).update(
                        width=source.width,
                        height=source.height,
                        placeholder=source.analysis.placeholder,
                        phash=source.analysis.phash,
                        updated_at=timezone.now(),
                        **fields,
                    )
                    events.photo_changed(photo_id)
    except imaging.ImageRejected as exc:
        _fail(photo_id, str(exc))
        return "failed"
    except FileNotFoundError:
        _fail(photo_id, "The original file is missing.")
        return "failed"
    except Exception as exc:
        logger.exception("Rendering photo %s failed", photo_id)
        _fail(photo_id, f"Rendering failed: {exc.__class__.__name__}: {exc}")
        raise
    Photo.objects.filter(pk=photo_id, status=Photo.Status.PROCESSING).update(
        status=Photo.Status.READY, updated_at=timezone.now()
    )
    events.photo_changed(photo_id)
    return "ready"
