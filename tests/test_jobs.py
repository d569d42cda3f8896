"""The render job's error handling, and the sweeper's reconciliation with RQ, against a real Redis."""

from __future__ import annotations

import errno
import os
import subprocess
from datetime import timedelta
from types import SimpleNamespace

import django_rq
import pytest
from django.db import OperationalError
from django.utils import timezone
from rq import Retry, Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from gallery import storage
from gallery.models import Photo
from processing import jobs, liveness, sweeper
from tests import private_redis
from tests.conftest import DATA, render_chain

pytestmark = pytest.mark.django_db

# Fixtures: a Redis server of this module's own (see tests/private_redis.py).
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
run_worker = private_redis.run_worker


def upload(client, name: str = "formats/hopper.jpg") -> Photo:
    with open(DATA / name, "rb") as handle:
        response = client.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    return Photo.objects.get(pk=response.json()["id"])


def as_rq_job(monkeypatch, photo_id: int) -> None:
    """Run the job function as RQ would, as the photo's own job (only the id matters to the job)."""
    monkeypatch.setattr(jobs, "get_current_job", lambda: SimpleNamespace(id=jobs.render_job_id(photo_id)))


def age(photo: Photo, seconds: int = 3600) -> None:
    Photo.objects.filter(pk=photo.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_render_marks_photo_ready_with_every_output(client_logged_in, redis_conn, media_root):
    photo = upload(client_logged_in)
    assert jobs.render_photo(photo.pk) == "thumbnail rendered"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING and set(photo.variants_by_name) == {"thumb", "thumb2x"}
    variant_job = Job.fetch(jobs.render_job_id(photo.pk, "variant"), connection=redis_conn, serializer=JSONSerializer)
    assert variant_job.origin == "variants" and variant_job.kwargs["stages"] == ["variant"]
    assert render_chain(photo.pk) == "not queued; nothing to do"  # the thumbnail job's second run
    assert jobs.render_photo(photo.pk, **variant_job.kwargs) == "ready"
    photo = Photo.objects.get(pk=photo.pk)
    assert photo.status == Photo.Status.READY
    assert set(photo.variants_by_name) == {spec.name for spec in jobs.current_specs()}
    assert all((media_root / variant.file).is_file() for variant in photo.variants.all())


def test_bad_image_fails_with_reason_and_is_not_retried(client_logged_in, redis_conn, media_root, monkeypatch):
    photo = upload(client_logged_in)
    storage.media_path(photo.original).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    as_rq_job(monkeypatch, photo.pk)
    assert jobs.render_photo(photo.pk) == "failed"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert "not an image" in photo.error or "damaged" in photo.error


def test_missing_original_fails_with_reason(client_logged_in, redis_conn):
    photo = upload(client_logged_in)
    storage.media_path(photo.original).unlink()
    assert jobs.render_photo(photo.pk) == "failed"
    photo.refresh_from_db()
    assert (photo.status, photo.error) == (Photo.Status.FAILED, "The original file is missing.")


@pytest.mark.parametrize(
    "error",
    [OperationalError("database is locked"), OSError(errno.ENOSPC, "No space left on device")],
    ids=["database", "storage"],
)
def test_transient_error_returns_retry_and_the_retry_finishes(client_logged_in, redis_conn, monkeypatch, error):
    photo = upload(client_logged_in)
    as_rq_job(monkeypatch, photo.pk)
    real_save = jobs.save_variant
    calls = []

    def flaky_save(photo_, output):
        calls.append(output.spec.name)
        if len(calls) == 1:
            raise error
        return real_save(photo_, output)

    monkeypatch.setattr(jobs, "save_variant", flaky_save)
    result = jobs.render_photo(photo.pk)
    assert isinstance(result, Retry)
    assert result.max == len(jobs.RETRY_INTERVALS) and result.intervals == jobs.RETRY_INTERVALS
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING  # not failed: the retry (the same job id) takes it on

    assert render_chain(photo.pk) == "ready"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY


def test_unmounted_media_root_is_transient(client_logged_in, redis_conn, monkeypatch, settings, tmp_path):
    photo = upload(client_logged_in)
    as_rq_job(monkeypatch, photo.pk)
    settings.MEDIA_ROOT = tmp_path / "not-mounted"
    assert isinstance(jobs.render_photo(photo.pk), Retry)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING


def test_another_jobs_render_does_not_claim_a_processing_photo(client_logged_in, redis_conn):
    photo = upload(client_logged_in)
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PROCESSING)
    assert jobs.render_photo(photo.pk) == "not queued; nothing to do"


def test_enqueue_render_twice_queues_one_job(client_logged_in, redis_conn):
    photo = upload(client_logged_in)
    redis_conn.flushdb()  # the upload's own enqueue
    assert jobs.enqueue_render(photo.pk) is True
    assert jobs.enqueue_render(photo.pk) is False
    queue = django_rq.get_queue("thumbs", commit_mode="auto")
    assert queue.get_job_ids() == [jobs.render_job_id(photo.pk)]
    assert Job.fetch(jobs.render_job_id(photo.pk), connection=redis_conn, serializer=JSONSerializer).timeout == 600


def test_sweeper_requeues_a_queued_photo_whose_job_vanished(client_logged_in, redis_conn, run_worker):
    photo = upload(client_logged_in)  # its enqueue ran on commit; then Redis lost it
    redis_conn.flushdb()
    assert sweeper.sweep().requeued == []  # too fresh: an upload's job may still be on its way
    age(photo)
    assert sweeper.sweep().requeued == [photo.pk]
    assert sweeper.sweep().requeued == []  # now it has a live job
    run_worker()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY


def test_sweeper_leaves_a_photo_with_a_live_job_alone(client_logged_in, redis_conn):
    photo = upload(client_logged_in)
    jobs.enqueue_render(photo.pk)
    age(photo)
    report = sweeper.sweep()
    assert (report.requeued, report.rescued, report.failed) == ([], [], [])


def test_sweeper_rescues_processing_photo_whose_job_failed(client_logged_in, redis_conn, run_worker):
    photo = upload(client_logged_in)
    queue = django_rq.get_queue("thumbs", commit_mode="auto")
    job = queue.enqueue(jobs.render_photo, args=(photo.pk,), job_id=jobs.render_job_id(photo.pk))
    redis_conn.delete(queue.key)  # a worker took it (and the upload's own enqueue) off the queue ...
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PROCESSING, render_started_at=timezone.now())
    # ... and its work horse died: RQ recorded the job as failed, the photo still says processing.
    queue.failed_job_registry.add(job, exc_string="Work-horse terminated unexpectedly")
    job.set_status("failed")
    age(photo)

    assert sweeper.sweep().rescued == [photo.pk]
    photo.refresh_from_db()
    assert photo.status == Photo.Status.QUEUED
    run_worker()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
    assert not redis_conn.exists(jobs.rescue_key(photo.pk))


@pytest.mark.live
def test_sweeper_sees_a_started_job_whose_worker_process_died(client_logged_in, redis_conn):
    photo = upload(client_logged_in)
    queue = django_rq.get_queue("thumbs", commit_mode="auto")
    dead = subprocess.Popen(["true"])
    dead.wait()
    worker = Worker([queue], connection=redis_conn, name="killed-worker")
    worker.register_birth()
    redis_conn.hset(worker.key, "pid", dead.pid)
    job = queue.enqueue(jobs.render_photo, args=(photo.pk,), job_id=jobs.render_job_id(photo.pk))
    queue.remove(job)
    with redis_conn.pipeline() as pipeline:
        job.prepare_for_execution(worker.name, pipeline=pipeline)
        pipeline.execute()
    execution_score = timezone.now().timestamp() + 600  # its registry entry has not expired yet
    redis_conn.zadd(queue.started_job_registry.key, {f"{job.id}:exec": execution_score})
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PROCESSING, render_started_at=timezone.now())
    job = Job.fetch(job.id, connection=redis_conn, serializer=JSONSerializer)
    assert job.get_status() == "started"
    assert liveness.LiveJobs([queue], ids=[job.id]).state(job.id) == liveness.DEAD
    assert liveness.LiveJobs(jobs.render_queues()).state(job.id) == liveness.DEAD
    assert jobs.render_state(photo.pk) == liveness.DEAD

    redis_conn.hset(worker.key, "pid", os.getpid())  # the same job on a live worker
    assert liveness.LiveJobs([queue], ids=[job.id]).state(job.id) == liveness.LIVE
    assert liveness.LiveJobs(jobs.render_queues()).state(job.id) == liveness.LIVE
    assert jobs.render_state(photo.pk) == liveness.LIVE


def test_sweeper_gives_up_after_repeated_interrupted_renders(client_logged_in, redis_conn, settings):
    settings.GLOWWORM_RENDER_MAX_RESCUES = 2
    photo = upload(client_logged_in)
    for attempt in range(3):
        redis_conn.delete("rq:queue:thumbs")  # the render "dies" each time before it finishes
        Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PROCESSING, render_started_at=timezone.now())
        age(photo)
        report = sweeper.sweep()
        if attempt < 2:
            assert report.rescued == [photo.pk]
    assert report.failed == [photo.pk]
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert "interrupted 2 times" in photo.error


def test_sweeper_does_not_touch_a_processing_photo_claimed_again_meanwhile(client_logged_in, redis_conn):
    photo = upload(client_logged_in)
    seen = timezone.now() - timedelta(hours=1)
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PROCESSING, render_started_at=timezone.now())
    report = sweeper.SweepReport()
    sweeper._rescue(photo.pk, seen, report)  # what a sweep read before a new render claimed it
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING
    assert report.rescued == []


def test_rerender_waits_for_a_render_that_is_only_finishing_its_bookkeeping(
    client_logged_in, redis_conn, django_capture_on_commit_callbacks
):
    """The photo already says ready while RQ still lists its job as started: a reprocess must not skip it."""
    import threading

    photo = upload(client_logged_in)
    queue = django_rq.get_queue("thumbs", commit_mode="auto")
    worker = Worker([queue], connection=redis_conn, name="finishing-worker")
    worker.register_birth()
    job = queue.enqueue(jobs.render_photo, args=(photo.pk,), job_id=jobs.render_job_id(photo.pk))
    redis_conn.delete(queue.key)
    with redis_conn.pipeline() as pipeline:
        job.prepare_for_execution(worker.name, pipeline=pipeline)
        pipeline.execute()
    redis_conn.zadd(queue.started_job_registry.key, {f"{job.id}:exec": timezone.now().timestamp() + 600})
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.READY)

    def finish():
        redis_conn.zrem(queue.started_job_registry.key, f"{job.id}:exec")
        job.set_status("finished")

    threading.Timer(0.3, finish).start()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.requeue(photo.pk, stages=["thumbnail"]) == "queued"
    assert Photo.objects.get(pk=photo.pk).status == Photo.Status.QUEUED
    assert Job.fetch(job.id, connection=redis_conn, serializer=JSONSerializer).kwargs == {
        "stages": ["thumbnail"],
        "origin": "upload",
    }

    # The worker takes the new job and is really rendering: nothing to add.
    redis_conn.delete(queue.key)
    job = Job.fetch(job.id, connection=redis_conn, serializer=JSONSerializer)
    with redis_conn.pipeline() as pipeline:
        job.prepare_for_execution(worker.name, pipeline=pipeline)
        pipeline.execute()
    redis_conn.zadd(queue.started_job_registry.key, {f"{job.id}:exec": timezone.now().timestamp() + 600})
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PROCESSING)
    assert jobs.requeue(photo.pk) == "busy"
