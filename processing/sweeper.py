"""The sweeper: nothing stays queued or processing forever.

`manage.py serve` runs `rqcron processing.cron`, which enqueues `sweep` every GLOWWORM_SWEEP_INTERVAL seconds.
Each sweep looks at every queued or processing photo and asks RQ whether its render job (one fixed id per photo,
processing.jobs.render_job_id) is live: waiting in the queue, scheduled for a retry, or running on a worker that
is still alive. A photo without a live job, unchanged for GLOWWORM_STUCK_AFTER seconds, is put back in the
queue. (The wait covers an upload, which commits its row a moment before it enqueues its render, and
`reprocess --sync`, which renders in its own process without a job.)

Processing photos go back to queued with a conditional UPDATE on the claim we saw (status and
render_started_at), so a render that claimed the photo in the meantime is never disturbed. A photo whose
render was interrupted GLOWWORM_RENDER_MAX_RESCUES times (a worker killed by the kernel for lack of memory on
every try, say) becomes failed with that reason instead of looping.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

import django_rq
import redis
from django.conf import settings
from django.utils import timezone
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import current_timestamp

from gallery.models import Photo
from processing import events, jobs

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)  # queued photos whose job had vanished
    rescued: list[int] = field(default_factory=list)  # processing photos whose render had died
    failed: list[int] = field(default_factory=list)  # rescued too often: given up with a reason

    def __str__(self) -> str:
        return f"requeued {len(self.requeued)}, rescued {len(self.rescued)}, failed {len(self.failed)}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_is_alive(worker_name: str | None, connection: redis.Redis) -> bool:
    """A worker is alive while its Redis key lives (it expires a minute or so after the last heartbeat)
    and, when it ran on this host, while its process exists: a SIGKILLed worker is seen at once."""
    if not worker_name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=connection)
    if worker is None:
        return False
    if worker.hostname == socket.gethostname() and worker.pid:
        return process_alive(worker.pid)
    return True


def job_is_live(job: Job, queue: Queue) -> bool:
    """Is this job going to run, or running now on a live worker?"""
    connection = queue.connection
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return (
            connection.lpos(queue.key, job.id) is not None
            or connection.lpos(queue.intermediate_queue_key, job.id) is not None
        )
    if status == JobStatus.SCHEDULED:
        when = connection.zscore(queue.scheduled_job_registry.key, job.id)
        # A retry that is long overdue means no scheduler is running to enqueue it.
        return when is not None and when > current_timestamp() - settings.GLOWWORM_STUCK_AFTER
    if status == JobStatus.STARTED:
        registry = queue.started_job_registry
        now = current_timestamp()
        unexpired = [
            registry.parse_job_id(entry.decode() if isinstance(entry, bytes) else entry)
            for entry in connection.zrangebyscore(registry.key, now, "+inf")
        ]
        return job.id in unexpired and worker_is_alive(job.worker_name, connection)
    return False


def _fetch(job_id: str, connection: redis.Redis) -> Job | None:
    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return None


class LiveJobs:
    """One read of the queue and registries per sweep, so a sweep over thousands of waiting photos costs a few
    Redis round trips rather than a scan of the queue per photo."""

    def __init__(self, queue: Queue):
        self.queue = queue
        connection = queue.connection
        now = current_timestamp()
        ids = connection.lrange(queue.key, 0, -1) + connection.lrange(queue.intermediate_queue_key, 0, -1)
        # A retry that is long overdue means no scheduler is running to enqueue it.
        ids += connection.zrangebyscore(queue.scheduled_job_registry.key, now - settings.GLOWWORM_STUCK_AFTER, "+inf")
        self.waiting = {_text(job_id) for job_id in ids}
        registry = queue.started_job_registry
        self.started = {
            registry.parse_job_id(_text(entry)) for entry in connection.zrangebyscore(registry.key, now, "+inf")
        }

    def is_live(self, job_id: str) -> bool:
        if job_id in self.waiting:
            return True
        if job_id in self.started:
            job = _fetch(job_id, self.queue.connection)
            return job is not None and worker_is_alive(job.worker_name, self.queue.connection)
        return False


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def sweep(*, stuck_after: int | None = None) -> SweepReport:
    """Re-enqueue queued and processing photos that have no live render job. Safe to run at any time."""
    jobs._drop_dead_connections()
    stuck_after = settings.GLOWWORM_STUCK_AFTER if stuck_after is None else stuck_after
    queue = django_rq.get_queue(jobs.QUEUE)
    connection = queue.connection
    cutoff = timezone.now() - timedelta(seconds=stuck_after)
    report = SweepReport()
    live = LiveJobs(queue)
    # Photos changed within stuck_after are skipped: just uploaded or re-queued (the job may be on its way), or
    # being rendered by `reprocess --sync` in a process of its own.
    pending = (
        Photo.objects.pending()
        .filter(updated_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "status", "render_started_at")
    )
    for photo_id, status, render_started_at in pending.iterator():
        if live.is_live(jobs.render_job_id(photo_id)):
            continue
        if status == Photo.Status.QUEUED:
            if jobs.enqueue_render(photo_id):
                report.requeued.append(photo_id)
            continue
        _rescue(photo_id, render_started_at, connection, report)
    if report.requeued or report.rescued or report.failed:
        logger.warning("Sweeper: %s (photos %s)", report, report.requeued + report.rescued + report.failed)
    return report


def _rescue(photo_id: int, render_started_at, connection: redis.Redis, report: SweepReport) -> None:
    """A processing photo whose render died: back to the queue, or failed after too many tries."""
    key = jobs.rescue_key(photo_id)
    rescues = connection.incr(key)
    connection.expire(key, 86400)
    claim = Photo.objects.filter(pk=photo_id, status=Photo.Status.PROCESSING, render_started_at=render_started_at)
    if rescues > settings.GLOWWORM_RENDER_MAX_RESCUES:
        reason = (
            f"Rendering was interrupted {rescues - 1} times and never finished; the worker may be running out of "
            "memory on this image. Use Retry to try again."
        )
        if claim.update(status=Photo.Status.FAILED, error=reason, updated_at=timezone.now()):
            connection.delete(key)
            report.failed.append(photo_id)
            events.photo_changed(photo_id)
        return
    if claim.update(status=Photo.Status.QUEUED, error="", updated_at=timezone.now()):
        jobs.enqueue_render(photo_id)
        report.rescued.append(photo_id)
        events.photo_changed(photo_id)


def stuck_photo_ids(*, older_than: timedelta) -> list[int]:
    """Queued or processing photos, unchanged for `older_than`, with no live job (for `reprocess --stuck`)."""
    live = LiveJobs(django_rq.get_queue(jobs.QUEUE))
    cutoff = timezone.now() - older_than
    pending = Photo.objects.pending().filter(updated_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)
    return [photo_id for photo_id in pending if not live.is_live(jobs.render_job_id(photo_id))]
