"""`manage.py doctor`: break each thing on purpose and check that doctor names the cause."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import PIL
import pytest
import redis
from django.core.management import call_command
from django.utils import timezone
from rq import Queue, Worker
from rq.serializers import JSONSerializer

from gallery import storage
from gallery.models import Photo, Variant
from glowworm import doctor as doctor_checks
from processing import jobs
from tests.conftest import DATA, ROOT, _start_valkey, paused_render_env, process_env


def doctor(*args: str) -> tuple[int, dict]:
    """Run doctor --json in this process; return its exit status and findings by check name."""
    out = io.StringIO()
    try:
        call_command("doctor", "--json", *args, stdout=out)
        status = 0
    except SystemExit as exc:
        status = exc.code
    body = json.loads(out.getvalue())
    assert body["ok"] == (status == 0)
    return status, {check["name"]: check for check in body["checks"]}


def forget_worker(connection, name: str) -> None:
    """Deregister a worker this test killed: the session's Redis is shared with later tests."""
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
    if worker is not None:
        worker.register_death()


def make_photo(media_root: Path, status: str = Photo.Status.READY, sha: str = "a") -> Photo:
    photo = Photo(sha256=sha.ljust(64, "0"), format="JPEG", file_size=1, width=1, height=1, status=status)
    photo.original = storage.original_name_for(photo.key.hex, "JPEG")
    target = media_root / photo.original
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "formats" / "hopper.jpg", target)
    photo.save()
    return photo


def point_redis_at(settings, url: str) -> None:
    from channels.layers import channel_layers

    settings.RQ_QUEUES = {name: dict(config, URL=url) for name, config in settings.RQ_QUEUES.items()}
    settings.CHANNEL_LAYERS = {"default": dict(settings.CHANNEL_LAYERS["default"], CONFIG={"hosts": [url]})}
    channel_layers.backends.clear()


@pytest.fixture
def own_redis(settings):
    """A valkey server of this test's own, so stopping it leaves the session's server alone."""
    directory = Path(tempfile.mkdtemp(prefix="gw-doctor-"))
    process, socket_path = _start_valkey(directory)
    url = f"unix://{socket_path}"
    original_queues, original_layers = settings.RQ_QUEUES, settings.CHANNEL_LAYERS
    point_redis_at(settings, url)
    yield process, url
    process.terminate()
    process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)
    settings.RQ_QUEUES, settings.CHANNEL_LAYERS = original_queues, original_layers
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture
def worker_process(redis_conn, redis_url, media_root):
    """A real `manage.py worker` (not burst) that registers itself and heartbeats."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "worker", "--name", "doctor-test-worker"],
        env=process_env(media_root, redis_url),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not any(w.name == "doctor-test-worker" for w in Worker.all(connection=redis_conn)):
        assert process.poll() is None, "the worker exited at start"
        assert time.monotonic() < deadline, "the worker did not register within 30 s"
        time.sleep(0.1)
    yield process
    if process.poll() is None:
        process.terminate()
        process.wait(15)


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_passes_on_a_healthy_stack_and_shows_every_check(worker_process, media_root, settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # served on this machine only: no deploy checks (pytest adds testserver)
    make_photo(media_root)
    status, checks = doctor()
    assert status == 0, checks
    assert list(checks) == [
        "settings", "database", "disk", "pillow", "redis", "queues", "workers", "channels", "stuck photos", "files",
        "bucket", "bucket files",
    ]  # fmt: skip
    assert {name: check["status"] for name, check in checks.items() if check["status"] != "ok"} == {}
    assert checks["settings"]["summary"] == "served only on this machine; Django check: no issues"
    assert checks["database"]["summary"].endswith(", all migrations applied")
    assert checks["database"]["details"]["unapplied"] == []
    assert checks["disk"]["summary"].startswith(f"media {media_root} writable, ")
    assert checks["pillow"]["summary"].startswith(f"Pillow {PIL.__version__}: WEBP, AVIF, HEIC; libjpeg-turbo ")
    assert checks["redis"]["details"]["maxmemory_policy"] == "noeviction"
    assert checks["queues"]["summary"] == (
        "thumbs: 0 waiting, 0 failed; variants: 0 waiting, 0 failed; bulk: 0 waiting, 0 failed; "
        "default: 0 waiting, 0 failed"
    )
    assert checks["workers"]["summary"].startswith("1 worker alive, heartbeats ")
    assert checks["workers"]["summary"].endswith(", 0 busy")
    assert [row["name"] for row in checks["workers"]["details"]["workers"]] == ["doctor-test-worker"]
    assert checks["channels"]["summary"].startswith("RedisChannelLayer: group_send -> receive round trip ")
    assert checks["stuck photos"]["details"] == {
        "pending": 0,
        "stuck": [],
        "stuck_after_seconds": settings.GLOWWORM_STUCK_AFTER + settings.GLOWWORM_SWEEP_INTERVAL,
    }
    assert checks["files"]["summary"] == "all files on disk (1 original, 0 variants)"
    assert all(check["fix"] == "" for check in checks.values())  # nothing to fix, nothing suggested


@pytest.mark.django_db
def test_doctor_text_output_has_one_line_per_check_with_timing_and_fix(redis_conn):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("doctor", stdout=out)  # no worker runs: broken
    assert exited.value.code == 1
    lines = out.getvalue().splitlines()
    failing = [line for line in lines if line.startswith("FAIL")]
    assert len(failing) == 1 and "workers" in failing[0] and "no worker is alive" in failing[0]
    assert failing[0].endswith(" ms)")
    fix = lines[lines.index(failing[0]) + 1]
    assert "fix:" in fix and "manage.py worker" in fix


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_names_a_killed_worker(worker_process, redis_conn):
    worker_process.send_signal(signal.SIGKILL)  # no chance to deregister: its key stays in Redis
    worker_process.wait(10)
    assert any(w.name == "doctor-test-worker" for w in Worker.all(connection=redis_conn))
    status, checks = doctor()
    assert status == 1
    assert checks["workers"]["status"] == "error"
    assert "no worker is alive" in checks["workers"]["summary"]
    assert "process is gone: doctor-test-worker" in checks["workers"]["summary"]
    forget_worker(redis_conn, "doctor-test-worker")


@pytest.mark.django_db
def test_doctor_names_a_stopped_redis(own_redis):
    process, url = own_redis
    status, checks = doctor()
    assert checks["redis"]["status"] == "ok" and url in checks["redis"]["summary"]
    assert checks["queues"]["status"] == "ok"  # checked, not skipped, while Redis answers
    process.terminate()
    process.wait(10)
    status, checks = doctor()
    assert status == 1
    assert checks["redis"]["status"] == "error"
    assert "unreachable" in checks["redis"]["summary"] and url in checks["redis"]["summary"]
    assert "Start Redis" in checks["redis"]["fix"]
    # What depends on Redis is skipped, not blamed.
    for name in ("queues", "workers", "channels", "stuck photos"):
        assert checks[name]["status"] == "skip", checks[name]
    assert checks["database"]["status"] == "ok"


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_warns_when_redis_may_evict_jobs_but_exits_zero(own_redis, worker_process):
    # The worker serves the session's Redis; give this one its own so only the policy is wrong.
    process, url = own_redis
    own = redis.Redis.from_url(url)
    own.config_set("maxmemory-policy", "allkeys-lru")
    registered = Worker(["default"], connection=own, name="doctor-fake-alive")
    registered.register_birth()  # a live registration (this test process) so the workers line is fine
    try:
        status, checks = doctor()
    finally:
        registered.register_death()
    assert checks["redis"]["status"] == "warn"
    assert "evict" in checks["redis"]["summary"] and "noeviction" in checks["redis"]["fix"]
    assert status == 0, checks


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_names_a_broken_channel_layer(settings, redis_conn, worker_process, tmp_path):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": dict(settings.CHANNEL_LAYERS["default"], CONFIG={"hosts": [f"unix://{tmp_path}/nothing.sock"]})
    }
    channel_layers.backends.clear()
    try:
        status, checks = doctor()
    finally:
        channel_layers.backends.clear()
    assert status == 1
    assert checks["channels"]["status"] == "error"
    assert "no live updates" in checks["channels"]["summary"]
    assert checks["redis"]["status"] == "ok"


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_names_a_missing_file(media_root, redis_conn, worker_process):
    photo = make_photo(media_root)
    variant_path = "variants/ab/missing-thumb.webp"
    storage.write_bytes(variant_path, b"x")
    Variant.objects.create(photo=photo, name="thumb", file=variant_path, width=1, height=1, format="WEBP", bytes=1)
    assert doctor()[0] == 0

    storage.media_path(variant_path).unlink()
    status, checks = doctor()
    assert status == 1
    assert checks["files"]["status"] == "error"
    assert f"missing rendered files (ids {photo.pk})" in checks["files"]["summary"]
    assert "reprocess" in checks["files"]["fix"]

    storage.media_path(photo.original).unlink()
    status, checks = doctor()
    assert f"missing the original (ids {photo.pk})" in checks["files"]["summary"]
    assert checks["files"]["details"]["missing_originals"] == [photo.pk]


@pytest.mark.django_db
def test_missing_files_lists_each_folder_once_and_knows_a_file_from_a_folder(media_root):
    kept, lost, odd = (make_photo(media_root, sha=sha) for sha in ("a", "b", "c"))
    for photo, name in ((kept, "thumb"), (lost, "thumb"), (lost, "preview")):
        path = f"variants/ab/{photo.key.hex}-{name}.webp"
        storage.write_bytes(path, b"x")
        Variant.objects.create(photo=photo, name=name, file=path, width=1, height=1, format="WEBP", bytes=1)
    storage.media_path(f"variants/ab/{lost.key.hex}-preview.webp").unlink()
    # A name that is a folder on disk, and one that would leave MEDIA_ROOT, are as good as missing.
    (media_root / "variants" / "ab" / "a-folder").mkdir()
    Variant.objects.create(photo=odd, name="thumb", file="variants/ab/a-folder", width=1, height=1, format="WEBP",
                           bytes=1)  # fmt: skip
    Variant.objects.create(photo=odd, name="preview", file="variants/../../etc/passwd", width=1, height=1,
                           format="WEBP", bytes=1)  # fmt: skip
    listed = []
    real_scandir = os.scandir

    def counting_scandir(path):
        listed.append(os.path.relpath(path, os.path.realpath(media_root)))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(doctor_checks.os, "scandir", counting_scandir)
        originals, variants = doctor_checks.missing_files()
    assert (originals, variants) == ([], sorted([lost.pk, odd.pk]))
    assert sorted(listed) == sorted({os.path.dirname(p.original) for p in (kept, lost, odd)} | {"variants/ab"})


@pytest.mark.django_db
def test_doctor_names_a_stuck_photo_and_the_command_that_fixes_it(media_root, redis_conn):
    stuck = make_photo(media_root, status=Photo.Status.PROCESSING, sha="b")
    waiting = make_photo(media_root, status=Photo.Status.QUEUED, sha="c")
    fresh = make_photo(media_root, status=Photo.Status.QUEUED, sha="d")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Photo.objects.filter(pk__in=[stuck.pk, waiting.pk]).update(updated_at=an_hour_ago)
    # No worker runs in this test: the job stays in the queue, live.
    Queue("thumbs", connection=redis_conn, serializer=JSONSerializer).enqueue(
        jobs.render_photo, waiting.pk, job_id=jobs.render_job_id(waiting.pk)
    )
    status, checks = doctor()
    assert status == 1
    finding = checks["stuck photos"]
    assert finding["status"] == "error"
    assert finding["details"]["stuck"] == [stuck.pk]  # not `waiting` (live job), not `fresh` (too young)
    assert f"(ids {stuck.pk})" in finding["summary"]
    assert "python manage.py reprocess --stuck" in finding["fix"]
    assert checks["queues"]["details"]["thumbs"]["depth"] == 1

    # A job that a dead worker had started is not live either.
    redis_conn.delete(f"rq:job:{jobs.render_job_id(waiting.pk)}")
    redis_conn.delete("rq:queue:thumbs")
    finding = doctor()[1]["stuck photos"]
    assert finding["details"]["stuck"] == [stuck.pk, waiting.pk]
    limit = doctor_checks.age_text(doctor_checks.default_stuck_after())
    assert finding["summary"].startswith(
        f"2 photos queued or rendering for over {limit} with no live job (ids {stuck.pk}, {waiting.pk});"
    )
    assert finding["details"]["pending"] == 3  # the fresh photo is pending, but younger than the limit: not named
    Photo.objects.filter(pk=fresh.pk).update(updated_at=an_hour_ago)
    assert doctor()[1]["stuck photos"]["details"]["stuck"] == [stuck.pk, waiting.pk, fresh.pk]


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_names_debug_on_a_public_host(settings, redis_conn, worker_process):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["photos.example.com"]
    status, checks = doctor()
    assert status == 1
    assert checks["settings"]["status"] == "error"
    assert "DEBUG is on while serving photos.example.com" in checks["settings"]["summary"]
    assert "DEBUG" in checks["settings"]["fix"]


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_runs_deploy_checks_for_a_public_host(settings, redis_conn, worker_process):
    settings.ALLOWED_HOSTS = ["photos.example.com"]
    status, checks = doctor()
    settings_check = checks["settings"]
    problems = settings_check["details"]["problems"]
    assert (problems[0]["status"], problems[0]["problem"]) == (
        "warn",
        "session and CSRF cookies are sent over plain HTTP",
    )
    assert "GLOWWORM_HTTPS=true" in problems[0]["fix"]
    # Django's check --deploy ran, and its findings are warnings: nothing here is broken, so doctor exits 0.
    deploy_ids = {p["problem"].split(":", 1)[0] for p in problems[1:]}
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= deploy_ids
    assert all(p["status"] == "warn" for p in problems)
    assert settings_check["status"] == "warn" and status == 0
    assert settings_check["summary"].startswith(
        f"production (photos.example.com); {len(problems)} problems: session and CSRF cookies are sent over plain HTTP"
    )


@pytest.mark.live
@pytest.mark.django_db
def test_doctor_reports_pillow_formats_and_warns_when_one_is_missing(redis_conn, worker_process, monkeypatch):
    status, checks = doctor()
    assert checks["pillow"]["status"] == "ok"
    assert checks["pillow"]["details"]["formats"] == {"WEBP": True, "AVIF": True, "HEIC": True}
    assert checks["pillow"]["details"]["libjpeg_turbo"] is True
    from PIL import features

    real_check = features.check
    monkeypatch.setattr(features, "check", lambda name: False if name == "avif" else real_check(name))
    status, checks = doctor()
    assert checks["pillow"]["status"] == "warn"
    assert "AVIF uploads will be rejected" in checks["pillow"]["summary"]
    assert status == 0


def explode() -> None:
    raise ValueError("the smoke alarm went off")


@pytest.mark.django_db
def test_doctor_counts_failed_jobs_and_shows_the_last_error(redis_conn):
    from rq import SimpleWorker

    queue = Queue("default", connection=redis_conn, serializer=JSONSerializer)
    queue.enqueue(explode)
    SimpleWorker([queue], connection=redis_conn, serializer=JSONSerializer).work(burst=True)
    status, checks = doctor()
    assert status == 1 and checks["workers"]["status"] == "error"  # no worker runs here; the failed job only warns
    queues = checks["queues"]
    assert queues["status"] == "warn"
    assert queues["details"]["default"]["failed"] == 1
    assert "ValueError: the smoke alarm went off" in queues["summary"]
    assert "reprocess --failed" in queues["fix"]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_doctor_names_a_photo_whose_worker_died_mid_render(media_root, redis_conn, redis_url, tmp_path):
    pause = tmp_path / "pause-render"
    pause.touch()
    photo = make_photo(media_root, status=Photo.Status.QUEUED)
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "worker", "--name", "doctor-dying-worker"],
        env=process_env(media_root, redis_url, **paused_render_env(pause)),
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the work-horse it forks dies with it
    )  # fmt: skip
    try:
        Queue("thumbs", connection=redis_conn, serializer=JSONSerializer).enqueue(
            jobs.render_photo, photo.pk, job_id=jobs.render_job_id(photo.pk)
        )
        deadline = time.monotonic() + 30
        while Photo.objects.get(pk=photo.pk).status != Photo.Status.PROCESSING:
            assert time.monotonic() < deadline, "the worker did not claim the photo"
            time.sleep(0.1)
        # Rendering (paused) on a live worker: not stuck, however old.
        assert doctor("--stuck-after", "0")[1]["stuck photos"]["details"]["stuck"] == []

        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        status, checks = doctor("--stuck-after", "0")
    finally:
        pause.unlink()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    assert status == 1
    assert checks["stuck photos"]["details"]["stuck"] == [photo.pk]
    assert "reprocess --stuck" in checks["stuck photos"]["fix"]
    assert "process is gone: doctor-dying-worker" in checks["workers"]["summary"]
    forget_worker(redis_conn, "doctor-dying-worker")


@pytest.mark.django_db
def test_doctor_names_the_development_secret_key_on_a_public_host(settings, redis_conn):
    settings.ALLOWED_HOSTS = ["photos.example.com"]
    settings.SECRET_KEY = "django-insecure-development-only"
    status, checks = doctor()
    assert status == 1
    problems = checks["settings"]["details"]["problems"]
    assert any(p["status"] == "error" and p["problem"].startswith("SECRET_KEY") for p in problems)
    assert "token_urlsafe" in " ".join(p["fix"] for p in problems)


@pytest.mark.django_db
def test_doctor_names_a_worker_on_another_host_that_stopped_sending_heartbeats(redis_conn):
    from rq.utils import utcformat

    silent = Worker(["default"], connection=redis_conn, name="doctor-silent-worker")
    silent.register_birth()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    redis_conn.hset(silent.key, mapping={"hostname": "elsewhere", "last_heartbeat": utcformat(an_hour_ago)})
    redis_conn.persist(silent.key)
    try:
        status, checks = doctor()
    finally:
        silent.register_death()  # other tests share this Redis
    assert status == 1
    assert "no worker is alive (1 worker with no recent heartbeat)" in checks["workers"]["summary"]
    row = checks["workers"]["details"]["workers"][0]
    assert row["name"] == "doctor-silent-worker" and row["last_heartbeat_seconds"] >= 3600
