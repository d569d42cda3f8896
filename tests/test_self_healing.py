"""Self-healing, for real: `manage.py serve` (a worker, the rq cron sweeper, Daphne) against a valkey server this
test starts, then a worker SIGKILLed mid-render, or the Redis server restarted with its data lost. Nobody runs a
command afterwards: the sweeper alone must bring every photo to ready."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from rq import Worker

from gallery.models import Photo
from processing import jobs
from tests.conftest import DATA, ROOT, _start_valkey, free_port, paused_render_env, process_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# The promise: a killed worker, or a Redis that lost its data, costs at most a minute, with no human action.
HEALED_WITHIN = 60
PHOTOS = [DATA / "formats" / "hopper.jpg", DATA / "formats" / "hopper_gray.jpg", DATA / "formats" / "hopper.webp"]


class Valkey:
    """A valkey server of this test's own, so restarting it leaves the session's server alone."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="gw-heal-", dir="/tmp"))
        self.process, self.socket_path = _start_valkey(self.directory)
        self.url = f"unix://{self.socket_path}"

    def restart_losing_data(self) -> None:
        self.process.kill()  # no shutdown save, and the server runs with persistence off: the data is gone
        self.process.wait(10)
        self.process, _ = _start_valkey(self.directory)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def valkey():
    server = Valkey()
    yield server
    server.stop()


@pytest.fixture
def pause_file(tmp_path):
    path = tmp_path / "pause-render"
    path.touch()
    return path


@pytest.fixture
def serve(valkey, media_root, pause_file, tmp_path, settings):
    """`manage.py serve` with its default sweep (every 30 s) and stuck threshold (180 s): the bounds below are the
    ones people get."""
    settings.RQ_QUEUES = {name: dict(config, URL=valkey.url) for name, config in settings.RQ_QUEUES.items()}
    env = process_env(
        media_root,
        valkey.url,
        GLOWWORM_WORKERS="1",
        GLOWWORM_VAR_DIR=str(tmp_path / "var"),
        **paused_render_env(pause_file),
    )
    log = open(tmp_path / "serve.log", "w+")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--no-migrate", "--port", str(free_port())],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def output(tail: int = 8000) -> str:
        log.flush()
        log.seek(0)
        return log.read()[-tail:]

    process.output = output
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def upload_all(client, paths) -> list[int]:
    ids = []
    for path in paths:
        with open(path, "rb") as handle:
            response = client.post("/api/images/", {"file": handle})
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def wait_for(predicate, timeout: float, describe, serve) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if serve.poll() is not None:
            pytest.fail(f"serve exited with {serve.returncode}\n{serve.output()}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {describe()}\n{serve.output()}")


def statuses(ids) -> dict[int, str]:
    return dict(Photo.objects.filter(pk__in=ids).values_list("pk", "status"))


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces; the parent pid is the second field after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def assert_all_ready(ids, media_root) -> None:
    for photo in Photo.objects.filter(pk__in=ids).prefetch_related("variants"):
        assert photo.status == Photo.Status.READY, (photo.pk, photo.status, photo.error)
        names = {variant.name for variant in photo.variants.all()}
        assert {"thumb", "thumb2x", "preview"} <= names
        assert all((media_root / variant.file).is_file() for variant in photo.variants.all())


def test_worker_killed_mid_render_photo_still_becomes_ready(client_logged_in, serve, valkey, pause_file, media_root):
    [photo_id] = upload_all(client_logged_in, PHOTOS[:1])
    wait_for(
        lambda: statuses([photo_id])[photo_id] == "processing", 60, lambda: statuses([photo_id]), serve
    )  # the worker claimed it and sits inside the render
    connection = redis.Redis.from_url(valkey.url)
    [worker] = [w for w in Worker.all(connection=connection) if w.get_current_job_id() == jobs.render_job_id(photo_id)]
    horses = children_of(worker.pid)
    assert horses, "the worker should have forked a work horse for the render"
    # The worker first, so nothing is left to notice the horse dying: the hardest case (as when the kernel's
    # out-of-memory killer or a power cut takes both).
    os.kill(worker.pid, signal.SIGKILL)
    for horse in horses:
        os.kill(horse, signal.SIGKILL)
    pause_file.unlink()

    # Healed within a minute, with no human action: the next sweep sees the dead worker at once.
    wait_for(lambda: statuses([photo_id])[photo_id] == "ready", HEALED_WITHIN, lambda: statuses([photo_id]), serve)
    assert_all_ready([photo_id], media_root)
    assert f"rescued 1, failed 0 (photos [{photo_id}])" in serve.output(tail=10**7)


def test_redis_restarted_with_data_lost_every_photo_still_becomes_ready(
    client_logged_in, serve, valkey, pause_file, media_root
):
    ids = upload_all(client_logged_in, PHOTOS)
    # One render is under way (paused) and the others wait in Redis when Redis goes away with all its data.
    wait_for(lambda: "processing" in statuses(ids).values(), 60, lambda: statuses(ids), serve)
    assert list(statuses(ids).values()).count("queued") == len(ids) - 1
    valkey.restart_losing_data()
    # The queued jobs are gone (workers and the cron scheduler may already have registered themselves again).
    assert not redis.Redis.from_url(valkey.url).exists(*(f"rq:job:{jobs.render_job_id(pk)}" for pk in ids))
    pause_file.unlink()

    wait_for(lambda: set(statuses(ids).values()) == {"ready"}, HEALED_WITHIN, lambda: statuses(ids), serve)
    assert_all_ready(ids, media_root)
