"""The sweeper: nothing stays queued or processing forever.

`manage.py serve` runs `rqcron glowworm.cron`, which enqueues `sweep` every GLOWWORM_SWEEP_INTERVAL seconds (30).
Each sweep looks at every queued or processing photo and asks processing.liveness about its render: is one of its
jobs (one fixed id per photo and stage, processing.jobs.render_job_id) waiting, scheduled for a retry, or running on
a worker that is alive, or is a `reprocess --sync` process rendering it? When that can be checked and the answer is
no (the worker's process on this host is gone, its Redis key has expired, the job is missing from Redis), the photo
is put back in the queue at this sweep, whatever its age: a SIGKILLed worker or a Redis that lost its data heals
within a sweep. Only when liveness cannot be verified does the sweep wait GLOWWORM_STUCK_AFTER seconds. Photos
changed in the last GRACE seconds are left for the next sweep (an upload commits its row a moment before it queues
its render).

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
from processing import events, jobs, liveness

logger = logging.getLogger(__name__)

# A photo changed this recently may be waiting for the enqueue that follows its commit: left for the next sweep.
GRACE = timedelta(seconds=10)


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)  # queued photos whose job had vanished
    rescued: list[int] = field(default_factory=list)  # processing photos whose render had died
    failed: list[int] = field(default_factory=list)  # rescued too often: given up with a reason

    def __str__(self) -> str:
        return f"requeued {len(self.requeued)}, rescued {len(self.rescued)}, failed {len(self.failed)}"


def sweep(*, stuck_after: int | None = None) -> SweepReport:
    """Re-enqueue queued and processing photos whose render will not happen. Safe to run at any time."""
    jobs._drop_dead_connections()
    stuck_after = settings.GLOWWORM_STUCK_AFTER if stuck_after is None else stuck_after
    report = SweepReport()
    rows = Photo.all_objects.filter(pk__in=stuck_photo_ids(unknown_after=timedelta(seconds=stuck_after)))
    for photo_id, status, render_started_at in rows.order_by("pk").values_list("pk", "status", "render_started_at"):
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
    connection = django_rq.get_connection(jobs.MAINTENANCE_QUEUE)
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


def stuck_photo_ids(*, unknown_after: timedelta, dead_after: timedelta = GRACE) -> list[int]:
    """Queued or processing photos whose render will verifiably not happen (unchanged for dead_after), or whose
    render's liveness cannot be verified (unchanged for unknown_after). For the sweep, `reprocess --stuck`, doctor."""
    live = liveness.LiveJobs(jobs.render_queues())
    now = timezone.now()
    pending = Photo.all_objects.pending().filter(updated_at__lte=now - min(dead_after, unknown_after))
    stuck = []
    for photo_id, updated_at in pending.order_by("pk").values_list("pk", "updated_at").iterator():
        state = jobs.render_state(photo_id, live)
        if state == liveness.DEAD or (state == liveness.UNKNOWN and updated_at <= now - unknown_after):
            stuck.append(photo_id)
    return stuck
