"""The real stack for the ingest and load benches: `manage.py serve` (private valkey, Daphne processes, RQ workers,
cron) in a temporary directory, an API token, a logged-in gallery websocket that records every push, and uploads
through POST /api/images/ as a script sends them.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-password-123"
TILE = re.compile(r'<figure class="tile[^"]*" id="photo-(\d+)"[^>]*data-status="(\w+)"[^>]*>(.*?)</figure>', re.S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique_copy(jpeg: bytes, index: int) -> bytes:
    """Same pixels, another SHA-256 (a JPEG comment right after SOI): no upload is a duplicate of another."""
    comment = f"glowworm bench {index} {secrets.token_hex(8)}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


def multipart(data: bytes, name: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_image(port: int, token: str, data: bytes, name: str, timeout: float = 300) -> tuple[int, dict, float, float]:
    """POST one file to /api/images/ with an API token; returns the status, the JSON answer, when the request started
    and when the answer was read (perf_counter)."""
    body, content_type = multipart(data, name)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    connection.request(
        "POST", "/api/images/", body=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )  # fmt: skip
    response = connection.getresponse()
    answer = json.loads(response.read())
    answered = time.perf_counter()
    connection.close()
    return response.status, answer, started, answered


@dataclass
class Seen:
    """What the websocket told about one photo: when its thumbnail was first in a pushed tile, when it was ready."""

    pushes: int = 0
    thumbnail: float | None = None
    ready: float | None = None


@dataclass
class Socket:
    """A gallery page's websocket, recording pushes per photo with their arrival times (perf_counter)."""

    url: str
    cookie: str
    origin: str
    photos: dict[int, Seen] = field(default_factory=dict)
    closed: str = ""

    def start(self) -> None:
        self._connection = connect(
            self.url, additional_headers={"Cookie": self.cookie}, origin=self.origin, open_timeout=30
        )
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            for message in self._connection:
                now = time.perf_counter()
                for photo_id, status, body in TILE.findall(message):
                    seen = self.photos.setdefault(int(photo_id), Seen())
                    seen.pushes += 1
                    if seen.thumbnail is None and "tile-image" in body and "tile-pending" not in body:
                        seen.thumbnail = now
                    if seen.ready is None and status == "ready":
                        seen.ready = now
        except Exception as exc:  # closed by the server: the bench reports it
            self.closed = f"{exc.__class__.__name__}: {exc}"

    def stop(self) -> None:
        self._connection.close()
        self._thread.join(5)


class Stack:
    def __init__(self, *, workers: int | None = None):
        self.workdir = Path(tempfile.mkdtemp(prefix="gw-bench-stack-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            GLOWWORM_VAR_DIR=str(self.workdir),
            PORT=str(self.port),
            SECRET_KEY="bench-" + secrets.token_hex(16),
            DJANGO_SUPERUSER_USERNAME=USER,
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
            DJANGO_SUPERUSER_EMAIL="bench@example.com",
        )
        for name in ("REDIS_URL", "DATABASE_URL", "DEBUG"):
            self.env.pop(name, None)
        argv = [sys.executable, "manage.py", "serve"] + (["--workers", str(workers)] if workers else [])
        self.log = open(self.workdir / "serve.log", "wb")
        self.server = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_healthy()
        self.token = subprocess.run(
            [sys.executable, "manage.py", "api_token", USER], cwd=ROOT, env=self.env, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip

    def wait_healthy(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if json.load(response)["workers"] >= 1:
                        return
            except OSError:
                pass
            if self.server.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"serve did not come up; see {self.workdir / 'serve.log'}")

    def session_cookie(self) -> str:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(self.base + "/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": USER, "password": PASSWORD})
        opener.open(urllib.request.Request(self.base + "/login/", data=form.encode(), headers={"Referer": self.base}))
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)

    def socket(self) -> Socket:
        sock = Socket(f"ws://127.0.0.1:{self.port}/ws/gallery/", self.session_cookie(), self.base)
        sock.start()
        return sock

    def upload(self, data: bytes, name: str) -> tuple[int, float, float]:
        """POST one file; returns the photo id, when the request started and when the answer was read."""
        status, answer, started, answered = post_image(self.port, self.token, data, name)
        if status not in (200, 201):
            raise RuntimeError(f"upload answered {status}: {answer}")
        return answer["id"], started, answered

    def api(self, path: str) -> dict:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def worker_pids(self) -> list[int]:
        """The RQ worker processes serve started (and any work horse they forked)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"worker" in arguments and str(self.workdir).encode() in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        return pids

    def signal_workers(self, signum: int) -> None:
        for pid in self.worker_pids():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        self.signal_workers(signal.SIGCONT)
        self.server.terminate()
        try:
            self.server.wait(60)
        except subprocess.TimeoutExpired:
            self.server.kill()
        self.log.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class Drop:
    """Uploads of one drop: (photo id, started, answered) per file, in perf_counter seconds."""

    uploads: list[tuple[int, float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def started(self) -> float:
        return min(started for _, started, _ in self.uploads)

    @property
    def last_answer(self) -> float:
        return max(answered for _, _, answered in self.uploads)

    @property
    def answer_times(self) -> list[float]:
        return [answered - started for _, started, answered in self.uploads]

    @property
    def ids(self) -> list[int]:
        return [photo_id for photo_id, _, _ in self.uploads]


def drop(stack: Stack, jpeg: bytes, count: int, in_flight: int, first_index: int = 0) -> Drop:
    """Upload `count` distinct copies of jpeg, `in_flight` at a time, as a script or the gallery page sends them."""
    from concurrent.futures import ThreadPoolExecutor

    result = Drop()
    bodies = [unique_copy(jpeg, first_index + index) for index in range(count)]

    def one(index: int) -> None:
        try:
            result.uploads.append(stack.upload(bodies[index], f"bench-{first_index + index}.jpg"))
        except Exception as exc:
            result.errors.append(f"{exc.__class__.__name__}: {exc}")

    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(one, range(count)))
    return result


def wait_ready(stack: Stack, sock: Socket, ids: list[int], seconds: float) -> None:
    """Until the websocket has told every photo ready (or failed), or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(sock.photos.get(pk) and sock.photos[pk].ready for pk in ids):
            return
        time.sleep(0.2)
