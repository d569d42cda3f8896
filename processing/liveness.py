"""Is a render job going to run, or running on a worker that is alive? The one definition, used by the render jobs
(not queuing a second job), the sweeper (rescuing what has none), `reprocess --stuck` and `doctor`.

A job is live while it waits in its queue (or RQ's intermediate queue), is scheduled for a retry that is not long
overdue (an overdue one means no scheduler is running), or is started, unexpired in the started registry, by a
worker that is alive: its Redis key lives (it expires a minute or so after the last heartbeat) and, when it runs on
this host, its process exists, so a SIGKILLed worker is seen at once.
"""

from __future__ import annotations

import os
import socket

import redis
from django.conf import settings
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.utils import current_timestamp


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_is_alive(worker_name: str | None, connection: redis.Redis) -> bool:
    if not worker_name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=connection)
    if worker is None:
        return False
    if worker.hostname == socket.gethostname() and worker.pid:
        return process_alive(worker.pid)
    return True


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LiveJobs:
    """The queue's waiting, scheduled and started job ids, read once: checking thousands of photos costs a few Redis
    round trips. With `ids`, only those jobs are looked up (one job costs a few cheap commands, not a queue scan)."""

    def __init__(self, queue: Queue, ids: list[str] | None = None):
        self.queue = queue
        connection = queue.connection
        now = current_timestamp()
        overdue = now - settings.GLOWWORM_STUCK_AFTER
        if ids is None:
            waiting = connection.lrange(queue.key, 0, -1) + connection.lrange(queue.intermediate_queue_key, 0, -1)
            waiting += connection.zrangebyscore(queue.scheduled_job_registry.key, overdue, "+inf")
            self.waiting = {_text(job_id) for job_id in waiting}
        else:
            self.waiting = {
                job_id
                for job_id in ids
                if connection.lpos(queue.key, job_id) is not None
                or connection.lpos(queue.intermediate_queue_key, job_id) is not None
                or (connection.zscore(queue.scheduled_job_registry.key, job_id) or 0) > overdue
            }
        registry = queue.started_job_registry
        # Entries are "job_id:execution_id" (rq 3); only as many as there are busy workers.
        self.started = {
            registry.parse_job_id(_text(entry)) for entry in connection.zrangebyscore(registry.key, now, "+inf")
        }

    def is_live(self, job_id: str) -> bool:
        # Started first: a worker listening to several queues leaves a started job in the intermediate queue too.
        if job_id in self.started:
            try:
                job = Job.fetch(job_id, connection=self.queue.connection, serializer=self.queue.serializer)
            except NoSuchJobError:
                return False
            return worker_is_alive(job.worker_name, self.queue.connection)
        return job_id in self.waiting


def job_is_live(job_id: str, queue: Queue) -> bool:
    return LiveJobs(queue, ids=[job_id]).is_live(job_id)
