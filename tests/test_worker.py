"""The worker class: it comes back into RQ's registry after Redis lost its data."""

import django_rq
from rq import Worker

from processing.worker import GlowwormWorker


def test_worker_registers_again_after_redis_lost_its_data(redis_conn):
    queue = django_rq.get_queue("default")
    worker = GlowwormWorker([queue], connection=redis_conn, name="test-worker")
    worker.register_birth()
    assert Worker.count(connection=redis_conn) == 1
    redis_conn.flushdb()  # a restart without persistence
    assert Worker.count(connection=redis_conn) == 0
    worker.heartbeat()
    assert Worker.count(connection=redis_conn) == 1
    assert [w.name for w in Worker.all(queue=queue)] == ["test-worker"]


def test_rqworker_command_uses_glowworm_worker():
    from django_rq.workers import get_worker_class

    assert get_worker_class() is GlowwormWorker
