"""The sweeper: nothing stays queued or processing forever.

`manage.py serve` runs `rqcron glowworm.cron`, which enqueues `sweep` every GLOWWORM_SWEEP_INTERVAL seconds.
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
from dataclasses import dataclass, field
from datetime import timedelta

import django_rq
from django.conf import settings
from django.utils import timezone

from gallery.models import Photo
from processing import events, jobs
from processing.liveness import LiveJobs

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)  # queued photos whose job had vanished
    rescued: list[int] = field(default_factory=list)  # processing photos whose render had died
    failed: list[int] = field(default_factory=list)  # rescued too often: given up with a reason

    def __str__(self) -> str:
        return f"requeued {len(self.requeued)}, rescued {len(self.rescued)}, failed {len(self.failed)}"


def sweep(*, stuck_after: int | None = None) -> SweepReport:
    """Re-enqueue queued and processing photos that have no live render job. Safe to run at any time."""
    jobs._drop_dead_connections()
    stuck_after = settings.GLOWWORM_STUCK_AFTER if stuck_after is None else stuck_after
    report = SweepReport()
    # Photos changed within stuck_after are skipped: just uploaded or re-queued (the job may be on its way), or
    # being rendered by `reprocess --sync` in a process of its own.
    stuck = stuck_photo_ids(older_than=timedelta(seconds=stuck_after))
    rows = Photo.all_objects.filter(pk__in=stuck).order_by("pk").values_list("pk", "status", "render_started_at")
    for photo_id, status, render_started_at in rows:
        if status == Photo.Status.QUEUED:
            if jobs.requeue(photo_id) == "queued":
                report.requeued.append(photo_id)
        elif status == Photo.Status.PROCESSING:
            _rescue(photo_id, render_started_at, report)
    if report.requeued or report.rescued or report.failed:
        logger.warning("Sweeper: %s (photos %s)", report, report.requeued + report.rescued + report.failed)
    return report


def sweep_job() -> str:
    """The periodic job (processing/cron.py): its result is stored as JSON, so a line of text."""
    return str(sweep())


def _rescue(photo_id: int, render_started_at, report: SweepReport) -> None:
    """A processing photo whose render died: back to the queue, or failed after too many tries."""
    connection = django_rq.get_connection(jobs.QUEUE)
    key = jobs.rescue_key(photo_id)
    rescues = connection.incr(key)
    connection.expire(key, 86400)
    if rescues > settings.GLOWWORM_RENDER_MAX_RESCUES:
        reason = (
            f"Rendering was interrupted {rescues - 1} times and never finished; the worker may be running out of "
            "memory on this image. Use Retry to try again."
        )
        # Conditional on the claim we saw: a render that claimed the photo meanwhile is never disturbed.
        claim = Photo.all_objects.filter(
            pk=photo_id, status=Photo.Status.PROCESSING, render_started_at=render_started_at
        )
        if claim.update(status=Photo.Status.FAILED, error=reason, updated_at=timezone.now()):
            connection.delete(key)
            report.failed.append(photo_id)
            events.photo_changed(photo_id)
        return
    if jobs.requeue(photo_id, if_started_at=render_started_at) == "queued":
        report.rescued.append(photo_id)


def stuck_photo_ids(*, older_than: timedelta) -> list[int]:
    """Queued or processing photos, unchanged for `older_than`, with no live job (`reprocess --stuck`, doctor)."""
    live = LiveJobs(django_rq.get_queue(jobs.QUEUE))
    cutoff = timezone.now() - older_than
    pending = Photo.all_objects.pending().filter(updated_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)
    return [photo_id for photo_id in pending if not live.is_live(jobs.render_job_id(photo_id))]
