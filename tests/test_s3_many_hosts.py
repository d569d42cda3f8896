"""Many processes, as on many hosts, with nothing shared but the database, Redis and the bucket (docs/scaling.md):
two Daphne processes on different ports, and an RQ worker started in a working directory of its own whose
MEDIA_ROOT does not exist (the "other host"). An upload to one web process is rendered by that worker from the bucket
into the bucket, its push reaches a gallery websocket open on the other web process, and its variants are served
through either app: to the token holder as presigned redirects, to an anonymous caller never. Frames whose sockets
sit on either web process hear a change made through the other, and get their files from the bucket."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from websockets.sync.client import connect

from gallery import albums
from gallery.frames import auth
from gallery.frames.models import Frame, Playlist, PlaylistAlbum
from gallery.models import ApiToken, Photo, hash_token
from tests import private_redis, private_s3
from tests.conftest import DATA, ROOT, free_port, process_env, wait_for_http

pytestmark = pytest.mark.live

# Fixtures: a Redis of this module's own (no other test's worker takes these jobs), moto_server and a bucket.
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
moto_url = private_s3.moto_url
bucket = private_s3.bucket


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def request(url: str, *, token: str = "", data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) without following redirects."""
    opener = urllib.request.build_opener(NoRedirect)
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    try:
        with opener.open(urllib.request.Request(url, data=data, headers=all_headers), timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = "glowworm-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


class Hosts:
    """Two web processes and a worker, each with its own MEDIA_ROOT that must never appear."""

    def __init__(self, base: Path, redis_url: str, aws: dict, **web_env: str):
        self.base = base
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.handles: list = []
        self.web_urls = []
        for name in ("web-a", "web-b"):
            home = base / name
            home.mkdir()
            port = free_port()
            env = process_env(home / "media", redis_url, ALLOWED_HOSTS="127.0.0.1,localhost", **aws, **web_env)
            self.processes.append(self._start(name, home, env, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                              "glowworm.asgi:application"))  # fmt: skip
            self.web_urls.append(f"http://127.0.0.1:{port}")
        self.worker_home = base / "worker-host"
        self.worker_home.mkdir()
        env = process_env(self.worker_home / "media", redis_url, **aws)
        self.processes.append(self._start("worker", self.worker_home, env, str(ROOT / "manage.py"), "worker"))
        for url, process in zip(self.web_urls, self.processes, strict=False):
            wait_for_http(url + "/healthz", process)

    def _start(self, name: str, home: Path, env: dict, *args: str) -> subprocess.Popen:
        env = dict(env, PYTHONPATH=str(ROOT))  # the code, from wherever the process runs
        log = self.base / f"{name}.log"
        self.logs.append(log)
        # cwd is the process's own directory: nothing it writes can land in the project or another process's place.
        handle = log.open("w")
        self.handles.append(handle)
        return subprocess.Popen([sys.executable, *args], env=env, cwd=home, stdout=handle, stderr=subprocess.STDOUT)

    def media_roots(self) -> list[Path]:
        return [self.base / name / "media" for name in ("web-a", "web-b")] + [self.worker_home / "media"]

    def output(self) -> str:
        return "\n".join(f"--- {log.name} ---\n{log.read_text()[-3000:]}" for log in self.logs)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in self.handles:
            handle.close()


@pytest.fixture
def hosts(transactional_db, bucket, private_redis_url, redis_conn, tmp_path):
    stack = Hosts(tmp_path, private_redis_url, bucket.env)
    yield stack
    stack.stop()


def upload_until_ready(web: str, token: str, stack: Hosts) -> int:
    """Upload a photo to one web process through the API; its id once the database says it is ready."""
    body, content_type = multipart(DATA / "formats/hopper.jpg")
    status, _, answer = request(web + "/api/images/", token=token, data=body, headers={"Content-Type": content_type})
    assert status == 201, answer
    photo_id = json.loads(answer)["id"]
    deadline = time.monotonic() + 90
    while Photo.objects.get(pk=photo_id).status != Photo.Status.READY:
        assert time.monotonic() < deadline, stack.output()
        time.sleep(0.2)
    return photo_id


def wait_for_ready(socket, photo_id: int, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            message = socket.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(message[:200])
        if f'id="photo-{photo_id}"' in message and 'data-status="ready"' in message:
            return message
    raise AssertionError(f"no ready push for photo {photo_id}; got {seen!r}")


def test_an_upload_to_one_web_process_reaches_a_socket_on_the_other_and_the_worker_needs_no_disk(hosts, bucket, user):
    _, token = ApiToken.issue(user)
    web_a, web_b = hosts.web_urls
    ws_url = web_b.replace("http://", "ws://") + "/ws/gallery/"
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, origin=web_b, open_timeout=10) as ws:
        body, content_type = multipart(DATA / "formats/hopper.jpg")
        status, _, answer = request(
            web_a + "/api/images/", token=token, data=body, headers={"Content-Type": content_type}
        )
        assert status == 201, answer
        photo_id = json.loads(answer)["id"]
        try:
            wait_for_ready(ws, photo_id)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{hosts.output()}") from None

    photo = Photo.objects.prefetch_related("variants").get(pk=photo_id)
    assert photo.status == Photo.Status.READY and photo.original_location == "s3"
    assert sorted([photo.original, *(v.file for v in photo.variants.all())]) == bucket.keys()
    assert not any(root.exists() for root in hosts.media_roots()), "nothing may be written under any MEDIA_ROOT"
    assert list(hosts.worker_home.iterdir()) == [], "the worker wrote into its working directory"

    # The variants' URLs, from either web process: a presigned redirect for the token holder that serves the file;
    # the login page, never storage, for anyone else.
    status, _, detail = request(f"{web_b}/api/images/{photo_id}/", token=token)
    assert status == 200
    for variant in json.loads(detail)["variants"]:
        path = "/" + variant["url"].split("/", 3)[3] if variant["url"].startswith("http") else variant["url"]
        for web in (web_a, web_b):
            status, headers, _ = request(web + path, token=token)
            assert status == 302 and headers["Location"].startswith(bucket.endpoint), (web, path, status)
            with urllib.request.urlopen(headers["Location"], timeout=10) as stored:
                assert stored.read() == bucket.read(path.removeprefix("/media/"))
            status, headers, _ = request(web + path)
            assert status == 302 and headers["Location"].startswith("/login/"), (web, path, status)
            assert bucket.endpoint not in headers["Location"]


@contextmanager
def frame_socket(web: str, secret: str):
    with connect(
        web.replace("http://", "ws://") + "/ws/frame/",
        additional_headers={"Cookie": f"{auth.FRAME_COOKIE}={secret}"},
        origin=web,
        open_timeout=10,
    ) as socket:
        socket.send(json.dumps({"type": "screen", "width": 1280, "height": 800}))
        yield socket


def next_state(socket, predicate, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(message.get("type"))
        if message.get("type") == "state" and predicate(message):
            return message
    raise AssertionError(f"no such state; got {seen!r}")


def test_frames_on_either_web_process_get_the_update_and_their_files_from_the_bucket(hosts, bucket, user):
    _, token = ApiToken.issue(user)
    web_a, web_b = hosts.web_urls
    album = albums.create_album(name="Hall", owner=user)
    playlist = Playlist.objects.create(name="Hall")
    PlaylistAlbum.objects.create(playlist=playlist, album=album)
    secrets_ = {}
    for name in ("A", "B"):
        secrets_[name] = secrets.token_urlsafe(32)
        Frame.objects.create(name=f"Frame {name}", playlist=playlist, secret_digest=hash_token(secrets_[name]))

    photo_id = upload_until_ready(web_a, token, hosts)

    with frame_socket(web_a, secrets_["A"]) as on_a, frame_socket(web_b, secrets_["B"]) as on_b:
        for socket in (on_a, on_b):
            next_state(socket, lambda state: True)  # the state on connecting: nothing to show yet
        # Added to the album through web B: both frames hear it, whichever process holds their socket.
        status, _, answer = request(
            f"{web_b}/api/albums/{album.pk}/photos/",
            token=token,
            data=json.dumps({"photos": [photo_id]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, answer
        states = {
            name: next_state(socket, lambda state: photo_id in [p["id"] for s in state["slides"] for p in s["photos"]])
            for name, socket in (("A", on_a), ("B", on_b))
        }
    for name, web in (("A", web_b), ("B", web_a)):  # each frame's file through the other web process
        src = states[name]["slides"][0]["photos"][0]["src"]
        status, headers, _ = request(web + src, headers={"Cookie": f"{auth.FRAME_COOKIE}={secrets_[name]}"})
        assert status == 302 and headers["Location"].startswith(bucket.endpoint), (name, status)
        with urllib.request.urlopen(headers["Location"], timeout=10) as stored:
            assert stored.read()[:4] == b"RIFF"
        status, headers, _ = request(web + src)  # no frame cookie
        assert status in (302, 403, 404) and bucket.endpoint not in headers.get("Location", "")


@pytest.fixture
def streaming_hosts(transactional_db, bucket, private_redis_url, redis_conn, tmp_path):
    stack = Hosts(tmp_path, private_redis_url, bucket.env, GLOWWORM_MEDIA_REDIRECT="false")
    yield stack
    stack.stop()


def test_with_redirects_off_daphne_streams_the_objects_from_the_bucket(streaming_hosts, bucket, user):
    _, token = ApiToken.issue(user)
    web_a, web_b = streaming_hosts.web_urls
    photo_id = upload_until_ready(web_a, token, streaming_hosts)
    for variant in Photo.objects.get(pk=photo_id).variants.all():
        status, headers, data = request(web_b + variant.url, token=token)
        assert status == 200, (variant.name, status)
        assert data == bucket.read(variant.file)
        assert headers["Content-Type"] == "image/webp" and headers["X-Content-Type-Options"] == "nosniff"
        status, headers, _ = request(web_b + variant.url)
        assert status == 302 and headers["Location"].startswith("/login/")


def test_smoke_passes_against_a_stack_whose_media_live_in_the_bucket(hosts, bucket, user):
    """`manage.py smoke` as an operator runs it after a deployment: upload, push, every variant fetched (through the
    presigned redirect, without sending its token to the bucket), delete, and the files gone."""
    _, token = ApiToken.issue(user)
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "smoke", "--url", hosts.web_urls[1], "--token", token],
        env=process_env(hosts.base / "smoke-media", "redis://127.0.0.1:1/0"),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr + hosts.output()
    assert "variants checked" in result.stdout
    assert bucket.keys() == []  # deleted with the photo (its replaced files: none, nothing was re-rendered)
