"""RQ jobs. They take primary keys, claim work with a conditional UPDATE and are safe to run twice.

A photo's render is a chain of two stages, each its own job with one id per photo and stage: the thumbnail stage
(grid thumbnails, placeholder, fingerprint, metadata, then a push) and the variant stage (the lightbox preview, the
display sizes pre-rendered for every photo and those the frames showing it need), after which the photo is ready.
Uploads send the stages to the `thumbs` and `variants` queues, imports, `reprocess` and frames to `bulk`; every
worker listens to them in that order, so the thumbnails of a 100-photo drop come before anyone's larger outputs.
Display sizes a frame needs for a photo that is ready already are a job of their own on `bulk`, which leaves the
photo's status alone.

The thumbnail stage claims the photo (QUEUED -> PROCESSING) and stamps render_started_at; the variant stage carries
that stamp and marks the photo ready only if it is unchanged, so a render that was superseded (a rotation, a
rescue) never overwrites the newer one's outcome.

Errors fall in two kinds. A bad image (ImageRejected, a missing original) is permanent: the photo becomes
failed with a reason and the job is not retried. A storage, database or Redis error is transient: the job
returns ``rq.Retry`` so RQ tries it again with backoff, and the photo stays processing meanwhile. Anything
that escapes both (a worker killed mid-render, retries used up, Redis losing its data) is found by
processing.sweeper.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

import django_rq
import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from rq import Queue, Retry, get_current_job
from rq.timeouts import JobTimeoutException

from gallery import storage
from gallery.models import Photo, Variant, month_of
from gallery.signals import display_sizes_wanted
from gallery.storage import StorageUnavailable
from processing import events, imaging, liveness
from processing.specs import STAGES, THUMBNAIL, VARIANT, Spec, build_specs, display_spec

logger = logging.getLogger(__name__)

THUMBS_QUEUE, VARIANTS_QUEUE, BULK_QUEUE = "thumbs", "variants", "bulk"
QUEUES = (THUMBS_QUEUE, VARIANTS_QUEUE, BULK_QUEUE)  # the render queues, in the order workers take from them
# Short periodic jobs (the sweep, frame schedules, the trash) and replaced-file deletions; workers take from it
# first, so the sweep never waits behind a drop of renders.
MAINTENANCE_QUEUE = "default"
WORKER_QUEUES = (MAINTENANCE_QUEUE, *QUEUES)
UPLOAD, BULK = "upload", "bulk"  # where a render comes from: a person waiting at the page, or an operator or import
DISPLAY = "display"  # the job that adds display sizes to a ready photo
# Backoff for transient errors: long enough to outlast a database or Redis restart.
RETRY_INTERVALS = [5, 20, 60, 180]


class TransientError(Exception):
    """Something outside the image failed (storage, database, Redis): try again later."""


# --- what to render -------------------------------------------------------------------------------------------


def current_specs() -> tuple[Spec, ...]:
    """The outputs every photo gets: thumbnails, the preview and GLOWWORM_DISPLAY_SIZES."""
    return build_specs(settings.GLOWWORM_DISPLAY_SIZES, settings.GLOWWORM_DISPLAY_FORMAT)


def wanted_display_sizes(photo_ids: list[int]) -> dict[int, set[tuple[int, int]]]:
    """The display sizes other features (frames) need for these photos, asked through a signal: the renderer
    never imports them."""
    wanted: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for _, response in display_sizes_wanted.send(sender=Photo, photo_ids=list(photo_ids)):
        for photo_id, sizes in (response or {}).items():
            wanted[photo_id].update(tuple(size) for size in sizes)
    return wanted


def display_specs_wanted(photo: Photo, wanted: dict[int, set[tuple[int, int]]] | None = None) -> list[Spec]:
    if wanted is None:
        wanted = wanted_display_sizes([photo.pk])
    return [display_spec(w, h, settings.GLOWWORM_DISPLAY_FORMAT) for w, h in sorted(wanted.get(photo.pk, set()))]


def specs_for(
    photo: Photo,
    *,
    stages: Iterable[str] | None = None,
    missing_only: bool = False,
    wanted: dict[int, set[tuple[int, int]]] | None = None,
) -> list[Spec]:
    """What a render of these stages makes for this photo: the thumbnail stage, and the variant stage with the
    display sizes pre-rendered for every photo plus those the frames showing this one need (`wanted`, when the
    caller asked for many photos at once)."""
    stage_names = set(stages or STAGES)
    unknown = stage_names - set(STAGES)
    if unknown:
        raise ValueError(f"Unknown stage {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
    specs = [spec for spec in current_specs() if spec.stage in stage_names]
    if VARIANT in stage_names:
        names = {spec.name for spec in specs}
        specs += [spec for spec in display_specs_wanted(photo, wanted) if spec.name not in names]
    if missing_only:
        specs = missing_specs(photo, specs)
    return specs


# --- queueing -------------------------------------------------------------------------------------------------


def ordered_stages(stages: Iterable[str] | None) -> list[str]:
    wanted = set(stages or STAGES)
    return [stage for stage in STAGES if stage in wanted]


def queue_for(stage: str, origin: str = UPLOAD) -> str:
    if origin == BULK or stage == DISPLAY:
        return BULK_QUEUE
    return THUMBS_QUEUE if stage == THUMBNAIL else VARIANTS_QUEUE


def render_queues() -> list[Queue]:
    return [django_rq.get_queue(name) for name in QUEUES]


def render_job_id(photo_id: int, stage: str = THUMBNAIL) -> str:
    return f"render-{photo_id}-{stage}"


def chain_job_ids(photo_id: int) -> list[str]:
    """The jobs whose life says whether the photo's render will happen (the display job leaves status alone)."""
    return [render_job_id(photo_id, stage) for stage in STAGES]


def rescue_key(photo_id: int) -> str:
    """Redis counter of renders that started and never ended; processing.sweeper gives up after a few."""
    return f"glowworm:render-rescues:{photo_id}"


def render_state(photo_id: int, live: liveness.LiveJobs | None = None) -> str:
    """LIVE, DEAD or UNKNOWN: is some job (or a `reprocess --sync` process) going to finish this photo's render?"""
    live = live or liveness.LiveJobs(render_queues(), ids=chain_job_ids(photo_id))
    states = []
    for job_id in chain_job_ids(photo_id):
        states.append(live.state(job_id))
        if states[-1] == liveness.LIVE:
            # Enough: a sweep over thousands of queued photos then asks Redis nothing per photo.
            return liveness.LIVE
    states.append(liveness.SyncRender.state(photo_id, live.connection))
    return liveness.combined(states)


def enqueue_render(
    photo_id: int,
    *,
    stages: Iterable[str] | None = None,
    missing_only: bool = False,
    origin: str = UPLOAD,
    claim: str | None = None,
) -> bool:
    """Queue the first of these stages (the job queues the next when it is done) unless that stage's job is
    already waiting or running: one job id per photo and stage, so a second request is a no-op (a waiting job
    renders everything the photo lacks anyway). Returns whether a job was queued."""
    stages = ordered_stages(stages)
    job_id = render_job_id(photo_id, stages[0])
    # "auto": enqueue now. Callers that write rows first enqueue from transaction.on_commit themselves.
    queue = django_rq.get_queue(queue_for(stages[0], origin), commit_mode="auto")
    if liveness.LiveJobs(render_queues(), ids=[job_id]).is_live(job_id):
        return False
    kwargs: dict = {"stages": stages, "origin": origin}
    if missing_only:
        kwargs["missing_only"] = True
    if claim:
        kwargs["claim"] = claim
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


def enqueue_display(photo_id: int) -> bool:
    """Queue the display sizes frames need for a ready photo (on `bulk`). Returns whether a job was queued."""
    job_id = render_job_id(photo_id, DISPLAY)
    if liveness.LiveJobs(render_queues(), ids=[job_id]).is_live(job_id):
        return False
    django_rq.get_queue(BULK_QUEUE, commit_mode="auto").enqueue(
        render_display,
        args=(photo_id,),
        job_id=job_id,
        job_timeout=settings.GLOWWORM_RENDER_TIMEOUT,
        result_ttl=600,
        failure_ttl=7 * 86400,
    )
    return True


# --- files ----------------------------------------------------------------------------------------------------


def save_variant(photo: Photo, output: imaging.Output) -> Variant:
    """Write the new file first (under MEDIA_ROOT or to the bucket, wherever new files go), then switch the row,
    then retire the old file from wherever it was."""
    relative = storage.variant_name_for(photo.key.hex, output.spec.name, output.spec.extension)
    location = storage.default_location()
    storage.write_bytes(relative, output.data, location=location)
    old_file = old_location = None
    try:
        with transaction.atomic():
            variant = Variant.objects.select_for_update().filter(photo=photo, name=output.spec.name).first()
            if variant is None:
                variant = Variant(photo=photo, name=output.spec.name)
            else:
                old_file, old_location = variant.file, variant.location
            variant.file = relative
            variant.location = location
            variant.width = output.width
            variant.height = output.height
            variant.format = output.spec.format
            variant.bytes = len(output.data)
            variant.created_at = timezone.now()
            variant.save()
    except BaseException:
        storage.delete_file(relative, location)
        raise
    if old_file and (old_file, old_location) != (relative, location):
        retire_file(old_file, old_location)
    return variant


def retire_file(relative: str, location: str = storage.LOCAL) -> None:
    """Delete a replaced variant file a while later, not now: a page that still shows the old URL (a lazy image
    not loaded yet, a push not received yet) keeps getting the picture. If Redis cannot take the job, delete now."""
    grace = settings.GLOWWORM_REPLACED_FILE_GRACE
    if grace > 0:
        try:
            django_rq.get_queue(MAINTENANCE_QUEUE, commit_mode="auto").enqueue_in(
                timedelta(seconds=grace), storage.delete_file, relative, str(location), result_ttl=0
            )
            return
        except redis.RedisError:
            pass
    storage.delete_file(relative, location)


def missing_specs(photo: Photo, specs: Iterable[Spec]) -> list[Spec]:
    """Specs the photo has no variant for, in the database or in storage; and the thumbnail stage when the photo's
    fingerprint was never measured (that stage makes it)."""
    variants = {variant.name: variant for variant in photo.variants.all()}
    missing = []
    for spec in specs:
        variant = variants.get(spec.name)
        if variant is None or not variant.file or not storage.exists(variant.file, location=variant.location):
            missing.append(spec)
        elif spec.stage == THUMBNAIL and photo.phash_detail is None:
            missing.append(spec)
    return missing


def _fail(photo_id: int, reason: str) -> None:
    Photo.all_objects.filter(pk=photo_id).update(
        status=Photo.Status.FAILED, error=reason[:500], updated_at=timezone.now()
    )
    _forget_rescues(photo_id)
    events.photo_changed(photo_id)


def _forget_rescues(photo_id: int) -> None:
    try:
        django_rq.get_connection(MAINTENANCE_QUEUE).delete(rescue_key(photo_id))
    except redis.RedisError:
        pass  # the counter expires on its own


def _drop_dead_connections() -> None:
    """A database that restarted since the last job leaves dead connections behind; Django checks and drops
    them around requests, and a job needs the same. (Never inside a transaction: that would end it.)"""
    if not connection.in_atomic_block:
        close_old_connections()


def _is_transient(exc: BaseException) -> bool:
    # OperationalError: lost connection, locked or read-only database; not a bug in a query.
    if isinstance(exc, (OperationalError, InterfaceError, redis.RedisError, TransientError, StorageUnavailable)):
        return True
    # A full or read-only disk, an unreachable network share: storage, not the image.
    return isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError)


# --- claims ---------------------------------------------------------------------------------------------------


def _stamp(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _claim(photo_id: int, job_id: str | None) -> str | None:
    """QUEUED -> PROCESSING, with a fresh render_started_at; returns it as the chain's claim. Also PROCESSING ->
    PROCESSING when this is the photo's own thumbnail job running again (a retry after a transient error, or RQ
    re-running an abandoned job): job ids are unique per photo and stage, so no other such render can be live."""
    statuses = [Photo.Status.QUEUED]
    job = get_current_job()
    if job is not None and job_id is not None and job.id == job_id:
        statuses.append(Photo.Status.PROCESSING)
    now = timezone.now()
    claimed = Photo.all_objects.filter(pk=photo_id, status__in=statuses).update(
        status=Photo.Status.PROCESSING, render_started_at=now, error="", updated_at=now
    )
    if not claimed:
        return None
    return _stamp(Photo.all_objects.filter(pk=photo_id).values_list("render_started_at", flat=True).first())


def _holds(photo_id: int, claim: str) -> bool:
    """Is the photo still processing under this chain's claim?"""
    row = Photo.all_objects.filter(pk=photo_id).values_list("status", "render_started_at").first()
    return row is not None and row[0] == Photo.Status.PROCESSING and _stamp(row[1]) == claim


def _finish(photo_id: int, claim: str) -> bool:
    """PROCESSING -> READY, only under this chain's claim."""
    started = datetime.fromisoformat(claim)
    done = Photo.all_objects.filter(pk=photo_id, status=Photo.Status.PROCESSING, render_started_at=started).update(
        status=Photo.Status.READY, updated_at=timezone.now()
    )
    return bool(done)


# --- the jobs -------------------------------------------------------------------------------------------------


def render_photo(
    photo_id: int,
    stages: list[str] | None = None,
    missing_only: bool = False,
    origin: str = UPLOAD,
    claim: str | None = None,
) -> str | Retry:
    """The RQ job: render the first of these stages, then queue the next, or mark the photo ready after the last.
    `claim` is the chain's claim from its first stage (None: this job starts the chain and claims the photo)."""
    _drop_dead_connections()
    stages = ordered_stages(stages)
    stage, rest = stages[0], stages[1:]
    try:
        if claim is None:
            claim = _claim(photo_id, render_job_id(photo_id, stage))
            if claim is None:
                return "not queued; nothing to do"
        elif not _holds(photo_id, claim):
            return "superseded by a newer render"
        result = _render(photo_id, stages=[stage], missing_only=missing_only)
        if result != "rendered":
            return result
        if stage == STAGES[0]:
            # Queued again while this job ran (a rotate, a retry): enqueue_render saw this job live and queued
            # nothing, so start over here rather than leave the photo waiting for the sweeper.
            for _ in range(3):
                if _rendering_since(photo_id) is not None:
                    break
                again = _claim(photo_id, None)
                if again is None:
                    break
                claim, rest, missing_only = again, list(STAGES[1:]), False
                result = _render(photo_id, stages=[STAGES[0]], missing_only=False)
                if result != "rendered":
                    return result
        if rest:
            enqueue_render(photo_id, stages=rest, missing_only=missing_only, origin=origin, claim=claim)
            return f"{stage} rendered"
        if _finish(photo_id, claim):
            _forget_rescues(photo_id)
            events.photo_changed(photo_id)
            return "ready"
        return "superseded by a newer render"
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


def _rendering_since(photo_id: int) -> datetime | None:
    """render_started_at while the photo is processing; None once it was queued again (a rotation)."""
    row = Photo.all_objects.filter(pk=photo_id).values_list("status", "render_started_at").first()
    return row[1] if row and row[0] == Photo.Status.PROCESSING else None


def render_display(photo_id: int) -> str | Retry:
    """The RQ job (on `bulk`): add the display sizes frames need to a ready photo. Its status stays as it is; a
    photo still rendering gets them from its own variant stage."""
    _drop_dead_connections()
    try:
        for _ in range(3):  # a need that arrived while this job ran is rendered too
            photo = Photo.all_objects.prefetch_related("variants").filter(pk=photo_id).first()
            if photo is None or photo.status != Photo.Status.READY:
                return "not ready; its own render makes them"
            specs = missing_specs(photo, display_specs_wanted(photo))
            if not specs:
                return "nothing missing"
            with (
                storage.local_copy(photo.original, location=photo.original_location) as original,
                imaging.Source(original, max_pixels=settings.GLOWWORM_MAX_PIXELS, rotation=photo.rotation) as source,
            ):
                for output in source.render(specs):
                    save_variant(photo, output)
            events.photo_changed(photo_id)
        return "rendered"
    except (imaging.ImageRejected, FileNotFoundError) as exc:
        logger.warning("Display sizes for photo %s could not be rendered: %s", photo_id, exc)
        return "failed"
    except Exception as exc:
        if not _is_transient(exc):
            logger.exception("Display sizes for photo %s failed", photo_id)
            return "failed"
        _drop_dead_connections()
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
    claim = _stamp(Photo.all_objects.filter(pk=photo_id).values_list("render_started_at", flat=True).first())
    try:
        with liveness.SyncRender(photo_id, django_rq.get_connection(MAINTENANCE_QUEUE)):
            result = _render(photo_id, stages=ordered_stages(stages), missing_only=missing_only)
        if result != "rendered":
            return result
        _finish(photo_id, claim)
        _forget_rescues(photo_id)
        events.photo_changed(photo_id)
        return "ready"
    except Exception as exc:
        if _is_transient(exc):
            requeue(photo_id, stages=stages, missing_only=missing_only, origin=BULK)
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
    origin: str = UPLOAD,
) -> str:
    """Put a photo back in the queue for (part of) a render: the one way every caller (retry, rotate, reprocess,
    the admin, the sweeper, cleanup_media) does it. Returns "queued", "busy" (a live job has it already) or "gone".
    Its current variants stay in place, so pages keep showing them until new ones replace them.

    after_current: the photo must be rendered again even if a render is under way (its rotation changed): the
    running thumbnail job sees the photo queued again when it finishes and starts over; a running variant job
    finds its claim gone and leaves the photo to the new chain.
    if_started_at: only if the photo's render_started_at is still this (the sweeper's rescue of the claim it saw).
    origin: UPLOAD (a person is waiting: the thumbs and variants queues) or BULK (an operator: the bulk queue).
    The enqueue waits for the caller's transaction to commit, so a worker never sees the old row.
    """
    deadline = time.monotonic() + 5
    while True:
        row = Photo.all_objects.filter(pk=photo_id).values_list("status", "render_started_at").first()
        if row is None:
            return "gone"
        status, started = row
        if if_started_at is not _ANY and started != if_started_at:
            return "busy"
        if render_state(photo_id) != liveness.LIVE:
            break
        if after_current and status == Photo.Status.PROCESSING:
            break  # marked queued below; the running render starts over, or gives way
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
        enqueue_render(photo_id, stages=stages, missing_only=missing_only, origin=origin)

    transaction.on_commit(push_and_enqueue, robust=True)
    return "queued"


def _render(photo_id: int, *, stages: list[str], missing_only: bool) -> str:
    """Render these stages of a photo this process has claimed (status PROCESSING). Returns "rendered" or
    "failed" (the photo is marked failed with the reason)."""
    events.photo_changed(photo_id)
    photo = Photo.all_objects.prefetch_related("variants").get(pk=photo_id)
    specs = specs_for(photo, stages=stages, missing_only=missing_only)
    thumbnails = [spec for spec in specs if spec.stage == THUMBNAIL]
    if specs and not storage.exists(photo.original, location=photo.original_location):
        if photo.original_location == storage.LOCAL and not os.path.isdir(settings.MEDIA_ROOT):
            # The whole media volume is gone (an unmounted share): storage trouble, not this photo's.
            raise TransientError(f"MEDIA_ROOT {settings.MEDIA_ROOT} is not there")
        _fail(photo_id, "The original file is missing.")
        return "failed"
    if specs:
        try:
            # From the bucket: streamed into a temporary file for the render, deleted after (no shared disk).
            with (
                storage.local_copy(photo.original, location=photo.original_location) as original,
                imaging.Source(original, max_pixels=settings.GLOWWORM_MAX_PIXELS, rotation=photo.rotation) as source,
            ):
                meta = source.metadata
                for output in source.render(specs):
                    save_variant(photo, output)
                    if thumbnails and output.spec == thumbnails[-1]:
                        fields = {name: getattr(meta, name) for name in meta.__dataclass_fields__}
                        # The date on the camera's own clock, before the instant is moved to UTC.
                        fields["taken_date"] = fields["taken_at"].date() if fields["taken_at"] else None
                        if fields["taken_at"] and timezone.is_naive(fields["taken_at"]):
                            # No UTC offset in the file: the camera's clock is read as the server's time zone.
                            fields["taken_at"] = timezone.make_aware(fields["taken_at"])
                        # A file without a date or position keeps the one stored from elsewhere (an import's
                        # sidecar, gallery/importing.py): the file has nothing better to say.
                        if fields["taken_at"] is None and photo.taken_at is not None:
                            for name in ("taken_at", "taken_at_offset", "taken_date"):
                                del fields[name]
                        if fields["gps_latitude"] is None and fields["gps_longitude"] is None:
                            if photo.gps_latitude is not None:
                                del fields["gps_latitude"], fields["gps_longitude"]
                        fields["library_at"] = fields.get("taken_at", photo.taken_at) or photo.created_at
                        fields["library_month"] = month_of(fields["library_at"])
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
    return "rendered"
