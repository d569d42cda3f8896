"""RQ jobs. They take primary keys, claim work with a conditional UPDATE and are safe to run twice.

Errors fall in two kinds. A bad image (ImageRejected, a missing original) is permanent: the photo becomes
failed with a reason and the job is not retried. A storage, database or Redis error is transient: the job
returns ``rq.Retry`` so RQ tries it again with backoff, and the photo stays processing meanwhile. Anything
that escapes both (a worker killed mid-render, retries used up) is found by processing.sweeper.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import timedelta

import django_rq
import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from rq import Retry, get_current_job
from rq.timeouts import JobTimeoutException

from gallery import storage
from gallery.models import DisplaySize, Photo, Variant
from processing import events, imaging, liveness
from processing.specs import STAGES, THUMBNAIL, Spec, build_specs

logger = logging.getLogger(__name__)

QUEUE = "default"
# Backoff for transient errors: long enough to outlast a database or Redis restart.
RETRY_INTERVALS = [5, 20, 60, 180]


class TransientError(Exception):
    """Something outside the image failed (storage, database, Redis): try again later."""


def current_specs() -> tuple[Spec, ...]:
    return build_specs(DisplaySize.objects.sizes(), settings.GLOWWORM_DISPLAY_FORMAT)


def render_job_id(photo_id: int) -> str:
    return f"render-photo-{photo_id}"


def rescue_key(photo_id: int) -> str:
    """Redis counter of renders that started and never ended; processing.sweeper gives up after a few."""
    return f"glowworm:render-rescues:{photo_id}"


def enqueue_render(photo_id: int, *, stages: Iterable[str] | None = None, missing_only: bool = False) -> bool:
    """Queue a render unless one for this photo is already waiting or running.

    One job id per photo means a photo never has two renders queued; a second request is a no-op
    (a waiting job renders everything the photo lacks anyway). Returns whether a job was queued.
    """
    # "auto": enqueue now. Callers that write rows first enqueue from transaction.on_commit themselves.
    queue = django_rq.get_queue(QUEUE, commit_mode="auto")
    job_id = render_job_id(photo_id)
    if liveness.job_is_live(job_id, queue):
        return False
    kwargs = {}
    if stages:
        kwargs["stages"] = sorted(set(stages))
    if missing_only:
        kwargs["missing_only"] = True
    queue.enqueue(
        render_photo,
        args=(photo_id,),
        kwargs=kwargs,
        job_id=job_id,
        job_timeout=settings.GLOWWORM_RENDER_TIMEOUT,
        result_ttl=600,
        failure_ttl=7 * 86400,
    )
    return True


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
        retire_file(old_file)
    return variant


def retire_file(relative: str) -> None:
    """Delete a replaced variant file a while later, not now: a page that still shows the old URL (a lazy image
    not loaded yet, a push not received yet) keeps getting the picture. If Redis cannot take the job, delete now."""
    grace = settings.GLOWWORM_REPLACED_FILE_GRACE
    if grace > 0:
        try:
            django_rq.get_queue(QUEUE, commit_mode="auto").enqueue_in(
                timedelta(seconds=grace), storage.delete_file, relative, result_ttl=0
            )
            return
        except redis.RedisError:
            pass
    storage.delete_file(relative)


def missing_specs(photo: Photo, specs: Iterable[Spec]) -> list[Spec]:
    """Specs the photo has no variant for, in the database or on disk; and the thumbnail stage when the photo's
    fingerprint was never measured (that stage makes it)."""
    variants = {variant.name: variant for variant in photo.variants.all()}
    missing = []
    for spec in specs:
        variant = variants.get(spec.name)
        if variant is None or not variant.file or not storage.media_path(variant.file).is_file():
            missing.append(spec)
        elif spec.stage == THUMBNAIL and photo.phash_detail is None:
            missing.append(spec)
    return missing


def specs_for(photo: Photo, *, stages: Iterable[str] | None = None, missing_only: bool = False) -> list[Spec]:
    specs = list(current_specs())
    if stages:
        wanted = set(stages)
        unknown = wanted - set(STAGES)
        if unknown:
            raise ValueError(f"Unknown stage {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
        specs = [spec for spec in specs if spec.stage in wanted]
    if missing_only:
        specs = missing_specs(photo, specs)
    return specs


def _fail(photo_id: int, reason: str) -> None:
    Photo.all_objects.filter(pk=photo_id).update(
        status=Photo.Status.FAILED, error=reason[:500], updated_at=timezone.now()
    )
    _forget_rescues(photo_id)
    events.photo_changed(photo_id)


def _forget_rescues(photo_id: int) -> None:
    try:
        django_rq.get_connection(QUEUE).delete(rescue_key(photo_id))
    except redis.RedisError:
        pass  # the counter expires on its own


def _claim(photo_id: int) -> bool:
    """QUEUED -> PROCESSING. Also PROCESSING -> PROCESSING when this is the photo's own RQ job running again
    (a retry after a transient error, or RQ re-running an abandoned job): job ids are unique per photo, so no
    other render of it can be live."""
    statuses = [Photo.Status.QUEUED]
    job = get_current_job()
    if job is not None and job.id == render_job_id(photo_id):
        statuses.append(Photo.Status.PROCESSING)
    now = timezone.now()
    return bool(
        Photo.all_objects.filter(pk=photo_id, status__in=statuses).update(
            status=Photo.Status.PROCESSING, render_started_at=now, error="", updated_at=now
        )
    )


def _drop_dead_connections() -> None:
    """A database that restarted since the last job leaves dead connections behind; Django checks and drops
    them around requests, and a job needs the same. (Never inside a transaction: that would end it.)"""
    if not connection.in_atomic_block:
        close_old_connections()


def _is_transient(exc: BaseException) -> bool:
    # OperationalError: lost connection, locked or read-only database; not a bug in a query.
    if isinstance(exc, (OperationalError, InterfaceError, redis.RedisError, TransientError)):
        return True
    # A full or read-only disk, an unreachable network share: storage, not the image.
    return isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError)


def render_photo(photo_id: int, stages: list[str] | None = None, missing_only: bool = False) -> str | Retry:
    """The RQ job: render a photo's outputs (all, some stages, or only those it lacks) and mark it ready."""
    _drop_dead_connections()
    try:
        if not _claim(photo_id):
            return "not queued; nothing to do"
        result = _render(photo_id, stages=stages, missing_only=missing_only)
        # Queued again while this job ran (a rotate, a retry): enqueue_render saw this job live and queued nothing,
        # so render again here rather than leave the photo waiting for the sweeper.
        for _ in range(3):
            if result != "ready" or not _claim(photo_id):
                break
            result = _render(photo_id, stages=None, missing_only=False)
        return result
    except JobTimeoutException:
        _fail(photo_id, f"Rendering took longer than {settings.GLOWWORM_RENDER_TIMEOUT} seconds.")
        return "failed"
    except Exception as exc:
        if not _is_transient(exc):
            logger.exception("Rendering photo %s failed", photo_id)
            _fail(photo_id, f"Rendering failed: {exc.__class__.__name__}: {exc}")
            return "failed"
        logger.warning("Rendering photo %s hit a transient error; retrying: %r", photo_id, exc)
        _drop_dead_connections()
        # The photo stays processing: the retry is this same job id, which _claim lets through.
        return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def render_now(photo_id: int, *, stages: Iterable[str] | None = None, missing_only: bool = False) -> str:
    """Render in this process (`reprocess --sync`). Returns "ready", "failed" or "busy" (a worker has it).

    A transient error is raised after the photo is put back in the queue for the workers."""
    now = timezone.now()
    claimed = Photo.all_objects.filter(
        pk=photo_id, status__in=(Photo.Status.QUEUED, Photo.Status.READY, Photo.Status.FAILED)
    ).update(status=Photo.Status.PROCESSING, render_started_at=now, error="", updated_at=now)
    if not claimed:
        return "busy"
    try:
        return _render(photo_id, stages=list(stages or []), missing_only=missing_only)
    except Exception as exc:
        if _is_transient(exc):
            requeue(photo_id, stages=stages, missing_only=missing_only)
            raise
        logger.exception("Rendering photo %s failed", photo_id)
        _fail(photo_id, f"Rendering failed: {exc.__class__.__name__}: {exc}")
        return "failed"


_ANY = object()


def requeue(
    photo_id: int,
    *,
    stages: Iterable[str] | None = None,
    missing_only: bool = False,
    after_current: bool = False,
    if_started_at=_ANY,
) -> str:
    """Put a photo back in the queue for (part of) a render: the one way every caller (retry, rotate, reprocess,
    the admin, the sweeper, frames, cleanup_media) does it. Returns "queued", "busy" (a live job has it already) or
    "gone". Its current variants stay in place, so pages keep showing them until new ones replace them.

    after_current: the photo must be rendered again even if a render is under way (its rotation changed): the
    running job sees the photo queued again when it finishes, and renders it once more (render_photo's loop).
    if_started_at: only if the photo's render_started_at is still this (the sweeper's rescue of the claim it saw).
    The enqueue waits for the caller's transaction to commit, so a worker never sees the old row.
    """
    queue = django_rq.get_queue(QUEUE)
    deadline = time.monotonic() + 5
    while True:
        row = Photo.all_objects.filter(pk=photo_id).values_list("status", "render_started_at").first()
        if row is None:
            return "gone"
        status, started = row
        if if_started_at is not _ANY and started != if_started_at:
            return "busy"
        if not liveness.job_is_live(render_job_id(photo_id), queue):
            break
        if after_current and status == Photo.Status.PROCESSING:
            break  # marked queued below; the running job renders it again
        # A render that has marked the photo ready or failed is only finishing its bookkeeping in RQ: wait for it
        # rather than skip the photo. One still queued or rendering does the work anyway.
        if status in (Photo.Status.QUEUED, Photo.Status.PROCESSING) or time.monotonic() > deadline:
            return "busy"
        time.sleep(0.05)
    # Conditional on what we read: a render that claimed the photo meanwhile is left alone.
    if not Photo.all_objects.filter(pk=photo_id, status=status, render_started_at=started).update(
        status=Photo.Status.QUEUED, error="", updated_at=timezone.now()
    ):
        return "busy"

    def push_and_enqueue() -> None:
        events.photo_changed(photo_id)
        enqueue_render(photo_id, stages=stages, missing_only=missing_only)

    transaction.on_commit(push_and_enqueue, robust=True)
    return "queued"


def _render(photo_id: int, *, stages: list[str] | None, missing_only: bool) -> str:
    """Render a photo this process has claimed (status PROCESSING)."""
    events.photo_changed(photo_id)
    photo = Photo.all_objects.prefetch_related("variants").get(pk=photo_id)
    specs = specs_for(photo, stages=stages, missing_only=missing_only)
    thumbnails = [spec for spec in specs if spec.stage == THUMBNAIL]
    original = storage.media_path(photo.original)
    if specs and not original.is_file():
        if not os.path.isdir(settings.MEDIA_ROOT):
            # The whole media volume is gone (an unmounted share): storage trouble, not this photo's.
            raise TransientError(f"MEDIA_ROOT {settings.MEDIA_ROOT} is not there")
        _fail(photo_id, "The original file is missing.")
        return "failed"
    if specs:
        try:
            with imaging.Source(original, max_pixels=settings.GLOWWORM_MAX_PIXELS, rotation=photo.rotation) as source:
                meta = source.metadata
                for output in source.render(specs):
                    save_variant(photo, output)
                    if thumbnails and output.spec == thumbnails[-1]:
                        fields = {name: getattr(meta, name) for name in meta.__dataclass_fields__}
                        if fields["taken_at"] and timezone.is_naive(fields["taken_at"]):
                            # No UTC offset in the file: the camera's clock is read as the server's time zone.
                            fields["taken_at"] = timezone.make_aware(fields["taken_at"])
                        # The user's quarter turns (Photo.rotation) come on top of the EXIF orientation.
                        turned = photo.rotation in (90, 270)
                        Photo.all_objects.filter(pk=photo_id).update(
                            width=source.height if turned else source.width,
                            height=source.width if turned else source.height,
                            placeholder=source.analysis.placeholder,
                            phash=source.analysis.phash,
                            phash_detail=source.analysis.detail,
                            updated_at=timezone.now(),
                            **fields,
                        )
                        events.photo_changed(photo_id)
        except imaging.ImageRejected as exc:
            _fail(photo_id, str(exc))
            return "failed"
    Photo.all_objects.filter(pk=photo_id, status=Photo.Status.PROCESSING).update(
        status=Photo.Status.READY, updated_at=timezone.now()
    )
    _forget_rescues(photo_id)
    events.photo_changed(photo_id)
    return "ready"
