"""The worker class: it comes back into RQ's registry after Redis lost its data, and reads JSON jobs only."""

import json
import zlib

import django_rq
import pytest
from django.test import Client
from django_rq.settings import get_queues_map
from rq import Worker
from rq.serializers import JSONSerializer

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


def job_payload(connection, job_id: str):
    """What RQ stored for the job, read as JSON (RQ zlib-compresses it); pickle bytes would not parse."""
    return json.loads(zlib.decompress(connection.hget(f"rq:job:{job_id}", "data")))


@pytest.mark.django_db
def test_job_payloads_are_json_never_pickle(redis_conn):
    from processing import jobs

    jobs.enqueue_render(41, stages=["thumbnail"])
    assert job_payload(redis_conn, jobs.render_job_id(41))[:2] == ["processing.jobs.render_photo", None]
    # Cron jobs too: rq's cron builds its own Queue, which glowworm.cron makes a JSON one.
    from rq.cron import CronJob

    import glowworm.cron  # noqa: F401
    from processing.sweeper import sweep_job

    job = CronJob(func=sweep_job, queue_name="default", interval=60).enqueue(redis_conn)
    assert job_payload(redis_conn, job.id)[0] == "processing.sweeper.sweep_job"
    # A worker started with rq's default (pickle) serializer still reads JSON only.
    worker = GlowwormWorker(["default"], connection=redis_conn, serializer="rq.serializers.DefaultSerializer")
    assert worker.serializer is JSONSerializer


@pytest.mark.django_db
def test_the_rq_dashboard_reads_json_jobs(redis_conn, django_user_model):
    from processing import jobs

    jobs.enqueue_render(42)
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "correct horse battery"))
    thumbs = get_queues_map()["thumbs"]  # the dashboard's own numbering of the queues
    page = staff.get(f"/admin/rq/queues/{thumbs}/")
    assert page.status_code == 200 and jobs.render_job_id(42) in page.content.decode()
    detail = staff.get(f"/admin/rq/queues/{thumbs}/{jobs.render_job_id(42)}/")
    assert detail.status_code == 200 and "render_photo" in detail.content.decode()


def test_worker_loads_the_urlconf_and_tile_template_before_forking_work_horses():
    """RQ forks a work horse per job; what the worker loaded before the fork, each horse has for free."""
    from django.template import engines
    from django.urls import clear_url_caches, get_resolver

    from gallery.fragments import TILE_TEMPLATE
    from processing.worker import warm_up

    clear_url_caches()
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    assert not get_resolver()._populated
    assert TILE_TEMPLATE not in loader.get_template_cache

    warm_up()

    assert get_resolver()._populated
    assert TILE_TEMPLATE in loader.get_template_cache
