"""rq cron configuration, loaded by `manage.py rqcron glowworm.cron` (started by `manage.py serve`): each app
registers its own periodic jobs, and this project module gathers them."""

from rq import Queue
from rq import cron as rq_cron
from rq.serializers import JSONSerializer

import gallery.cron  # noqa: F401  (the trash empties itself, every hour)
import gallery.frames.cron  # noqa: F401  (the frame schedules, every minute)
import processing.cron  # noqa: F401  (the sweeper)
from glowworm import query_statistics

# SQLite's planner statistics, every six hours (a library's shape changes slowly).
rq_cron.register(
    query_statistics.refresh, "default", interval=6 * 3600, job_timeout=600, ttl=3600, result_ttl=600,
    name="glowworm-query-statistics",
)  # fmt: skip


class JSONQueue(Queue):
    def __init__(self, *args, **kwargs):
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)


# rq's CronJob.enqueue builds a plain Queue, which pickles; our workers read JSON only (processing/worker.py).
rq_cron.Queue = JSONQueue
