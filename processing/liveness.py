"""Is a render going to run, or running on a worker that is alive? The one definition, used by the render jobs (not
queuing a second job), the sweeper (rescuing what has none), `reprocess --stuck` and `doctor`.

A job is live while it waits in one of the render queues (or RQ's intermediate queue), is scheduled for a retry
that is not long overdue (an overdue one means no scheduler is running), or is started, unexpired in the started
registry, by a worker that is alive. A worker is dead when its Redis key has expired, or when it runs on this host
and its process is gone (a SIGKILLed worker is seen at once). A job that is missing from Redis altogether, or has
finished, will not run. Those are facts the sweeper can act on at once; only when they cannot be checked (a job
that says it was started, by a worker whose key lives on another host, yet is in no started registry) is the state
unknown, and the sweeper waits GLOWWORM_STUCK_AFTER before it steps in.

`reprocess --sync` renders in its own process without a job: it marks the photo in Redis (SyncRender) with its
host and pid, so it counts as live while that process lives.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable

import redis
from django.conf import settings
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import current_timestamp

LIVE, DEAD, UNKNOWN = "live", "dead", "unknown"


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
    """The render queues' waiting and started job ids, read once: checking thousands of photos costs a few Redis
    round trips. With `ids`, only those jobs are looked up (one job costs a few cheap commands, not a queue scan)."""

    def __init__(self, queues: Iterable[Queue], ids: list[str] | None = None):
        self.queues = list(queues)
        self.connection = self.queues[0].connection
        now = current_timestamp()
        overdue = now - settings.GLOWWORM_STUCK_AFTER
        self.waiting: set[str] = set()
        self.started: set[str] = set()
        for queue in self.queues:
            if ids is None:
                waiting = self.connection.lrange(queue.key, 0, -1)
                waiting += self.connection.lrange(queue.intermediate_queue_key, 0, -1)
                waiting += self.connection.zrangebyscore(queue.scheduled_job_registry.key, overdue, "+inf")
                self.waiting.update(_text(job_id) for job_id in waiting)
            else:
                self.waiting.update(
                    job_id
                    for job_id in ids
                    if self.connection.lpos(queue.key, job_id) is not None
                    or self.connection.lpos(queue.intermediate_queue_key, job_id) is not None
                    or (self.connection.zscore(queue.scheduled_job_registry.key, job_id) or 0) > overdue
                )
            registry = queue.started_job_registry
            # Entries are "job_id:execution_id" (rq 3); only as many as there are busy workers.
            self.started.update(
                registry.parse_job_id(_text(entry))
                for entry in self.connection.zrangebyscore(registry.key, now, "+inf")
            )

    def state(self, job_id: str) -> str:
        # Started first: a worker listening to several queues leaves a started job in the intermediate queue too.
        if job_id in self.started:
            job = self._fetch(job_id)
            if job is None:
                return DEAD
            return LIVE if worker_is_alive(job.worker_name, self.connection) else DEAD
        if job_id in self.waiting:
            return LIVE
        job = self._fetch(job_id)
        if job is None:
            return DEAD  # missing from Redis altogether (lost with Redis's data, or expired)
        status = job.get_status(refresh=False)
        if status == JobStatus.STARTED and job.worker_name and worker_is_alive(job.worker_name, self.connection):
            # Said to be running by a live worker, yet in no started registry: cannot be told either way.
            return UNKNOWN
        return DEAD  # finished, failed, stopped, or waiting nowhere: it will not run

    def is_live(self, job_id: str) -> bool:
        return self.state(job_id) == LIVE

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.connection, serializer=self.queues[0].serializer)
        except NoSuchJobError:
            return None


def combined(states: Iterable[str]) -> str:
    """The state of a photo whose render is any of several jobs: live if one is, unknown if one may be."""
    states = set(states)
    if LIVE in states:
        return LIVE
    return UNKNOWN if UNKNOWN in states else DEAD


class SyncRender:
    """A render running in a process of its own (`reprocess --sync`), marked in Redis so it counts as live."""

    def __init__(self, photo_id: int, connection: redis.Redis):
        self.key = f"glowworm:render-here:{photo_id}"
        self.connection = connection

    def __enter__(self) -> SyncRender:
        self.connection.set(self.key, f"{socket.gethostname()}:{os.getpid()}", ex=settings.GLOWWORM_RENDER_TIMEOUT)
        return self

    def __exit__(self, *exc) -> None:
        self.connection.delete(self.key)

    @staticmethod
    def state(photo_id: int, connection: redis.Redis) -> str:
        owner = connection.get(f"glowworm:render-here:{photo_id}")
        if owner is None:
            return DEAD
        host, _, pid = _text(owner).rpartition(":")
        if host == socket.gethostname():
            return LIVE if pid.isdigit() and process_alive(int(pid)) else DEAD
        return LIVE
