"""`python manage.py smoke`: an end-to-end test against a running Glowworm, the local one by default.

Uploads a generated portrait photo (stored sideways, with EXIF orientation 6) through the JSON API while
listening on the gallery websocket, waits for it to be ready, downloads every variant and checks its size
and that it is upright, then deletes it. Needs only HTTP access and an API token (`manage.py api_token`).
"""

from __future__ import annotations

import io
import json
import os
import random
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw, ImageOps
from PIL.ExifTags import Base

from processing.specs import THUMBNAIL, build_specs

UPRIGHT_SIZE = (600, 900)  # portrait, as a person looks at it
MARKER = (230, 30, 30)  # the top quarter, when upright
BODY = (30, 60, 220)
POLL_INTERVAL = 0.2


class SmokeFailed(Exception):
    pass


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str

    def json(self) -> dict:
        try:
            return json.loads(self.body)
        except ValueError:
            raise SmokeFailed(f"expected JSON, got HTTP {self.status}: {self.body[:200]!r}") from None


def make_photo() -> bytes:
    """A portrait JPEG stored sideways with EXIF orientation 6, unique on every call (the server dedupes)."""
    upright = Image.new("RGB", UPRIGHT_SIZE, BODY)
    draw = ImageDraw.Draw(upright)
    draw.rectangle((0, 0, UPRIGHT_SIZE[0], UPRIGHT_SIZE[1] // 4), fill=MARKER)
    noise = random.Random()
    for _ in range(200):  # a little texture so the encoder does real work and no two runs match
        x, y = noise.randrange(UPRIGHT_SIZE[0]), noise.randrange(UPRIGHT_SIZE[1] // 3, UPRIGHT_SIZE[1])
        draw.point((x, y), fill=(noise.randrange(256), noise.randrange(256), noise.randrange(256)))
    # Orientation 6 means "turn 90 degrees clockwise to view": store it turned the other way.
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[Base.Orientation] = 6
    exif[Base.ImageDescription] = f"glowworm smoke test {uuid.uuid4()}"
    out = io.BytesIO()
    sideways.save(out, "JPEG", quality=90, exif=exif)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert ImageOps.exif_transpose(check).size == UPRIGHT_SIZE  # the test's own premise
    return data


def upright_problem(image: Image.Image) -> str:
    """Why this rendered variant is not the upright photo, or "" when it is."""
    if image.height <= image.width:
        return f"it is {image.width}x{image.height}, landscape, but the photo is portrait"
    rgb = image.convert("RGB")
    top = rgb.getpixel((image.width // 2, image.height // 10))
    bottom = rgb.getpixel((image.width // 2, image.height * 9 // 10))

    def near(pixel, colour):
        return all(abs(a - b) < 60 for a, b in zip(pixel, colour, strict=True))

    if not near(top, MARKER):
        return f"the marker is not at the top (top pixel {top}, bottom {bottom}): the photo is upside down or turned"
    if not near(bottom, BODY):
        return f"the bottom is {bottom}, expected {BODY}"
    return ""


def multipart(field: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class SameHostAuthorization(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but sends the token only to Glowworm: media in a bucket answer with a redirect to a
    presigned URL, which carries its own signature (S3 refuses a request with two), and a token is not the bucket's
    business."""

    def redirect_request(self, request, fp, code, msg, headers, new_url):
        redirected = super().redirect_request(request, fp, code, msg, headers, new_url)
        if redirected is not None and urlsplit(new_url).netloc != urlsplit(request.full_url).netloc:
            redirected.remove_header("Authorization")
        return redirected


class Client:
    def __init__(self, base: str, token: str):
        self.base, self.token = base.rstrip("/"), token
        self.opener = urllib.request.build_opener(SameHostAuthorization)

    def request(self, method: str, path: str, data: bytes | None = None, content_type: str = "") -> Answer:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read(), exc.headers.get("Content-Type", ""))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmokeFailed(f"{method} {self.base}{path}: cannot connect ({reason}). Is Glowworm running?") from None

    @contextmanager
    def websocket(self) -> Iterator:
        from websockets.sync.client import connect

        parts = urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = urlunsplit((scheme, parts.netloc, "/ws/gallery/", "", ""))
        opened = False
        try:
            with connect(
                url,
                additional_headers={"Authorization": f"Bearer {self.token}"},
                origin=self.base,
                open_timeout=10,
                max_size=2**24,
            ) as socket:
                opened = True
                yield socket
        except Exception as exc:
            if opened:
                raise
            raise SmokeFailed(f"the websocket {url} did not open: {exc.__class__.__name__}: {exc}") from None


class Command(BaseCommand):
    help = "Upload a generated photo to a running Glowworm, wait for it over the websocket, check it, delete it."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--url", default=os.environ.get("GLOWWORM_URL", "http://127.0.0.1:8000"))
        parser.add_argument(
            "--token", default=os.environ.get("GLOWWORM_TOKEN", ""), help="An API token (manage.py api_token USER)"
        )
        parser.add_argument("--timeout", type=float, default=120, help="Seconds to wait for the photo to be ready")

    def handle(self, *args, url: str, token: str, timeout: float, **options) -> None:
        if not token:
            raise CommandError("Give an API token: --token TOKEN or GLOWWORM_TOKEN (python manage.py api_token USER).")
        client = Client(url, token)
        self.started = time.perf_counter()
        self.created_id: int | None = None
        self.stdout.write(f"Smoke test against {client.base}")
        try:
            self.run(client, timeout)
        except SmokeFailed as exc:
            if self.created_id is not None:
                self.cleanup(client, self.created_id)
            raise CommandError(f"smoke test FAILED: {exc}") from None
        self.stdout.write(f"smoke test passed in {time.perf_counter() - self.started:.2f} s")

    def stage(self, name: str, since: float, detail: str = "") -> None:
        milliseconds = (time.perf_counter() - since) * 1000
        self.stdout.write(f"  {name:<18} {milliseconds:8.0f} ms  {detail}".rstrip())

    def run(self, client: Client, timeout: float) -> int:
        data = make_photo()
        mark = time.perf_counter()
        with client.websocket() as socket:
            self.stage("websocket open", mark)
            photo_id, marks = self.upload_and_wait(client, socket, data, timeout)
        upload_started = marks["upload"]
        self.stage_at("first push", upload_started, marks["push"], f'(id="photo-{photo_id}" on /ws/gallery/)')
        self.stage_at("thumbnail ready", upload_started, marks["thumbnail"])
        self.stage_at("all ready", upload_started, marks["ready"])

        mark = time.perf_counter()
        photo = marks["photo"]
        checked = self.check_variants(client, photo)
        self.stage("variants checked", mark, checked)

        mark = time.perf_counter()
        self.delete(client, photo)
        self.stage("deleted", mark, f"photo {photo_id} and its files")
        return photo_id

    def stage_at(self, name: str, since: float, at: float, detail: str = "") -> None:
        self.stdout.write(f"  {name:<18} {(at - since) * 1000:8.0f} ms  {detail}".rstrip())

    def upload_and_wait(self, client: Client, socket, data: bytes, timeout: float) -> tuple[int, dict]:
        body, content_type = multipart("file", "smoke-test.jpg", data, "image/jpeg")
        marks: dict = {"upload": time.perf_counter()}
        answer = client.request("POST", "/api/images/", body, content_type)
        if answer.status != 201:
            detail = answer.json().get("error") if answer.content_type.startswith("application/json") else ""
            raise SmokeFailed(
                f"POST /api/images/ answered {answer.status}, expected 201: {detail or answer.body[:200]}"
            )
        photo = answer.json()
        photo_id = photo["id"]
        self.created_id = photo_id
        self.stage("upload answered", marks["upload"], f"(201, photo {photo_id}, {len(data) // 1024} KB)")
        if (photo["width"], photo["height"]) != UPRIGHT_SIZE:
            raise SmokeFailed(
                f"the upload says {photo['width']}x{photo['height']}, expected {UPRIGHT_SIZE[0]}x{UPRIGHT_SIZE[1]}: "
                "EXIF orientation was not applied"
            )

        thumbnails = {spec.name for spec in build_specs([]) if spec.stage == THUMBNAIL}
        needle = f'id="photo-{photo_id}"'
        deadline = marks["upload"] + timeout
        next_poll = 0.0
        while "ready" not in marks or "push" not in marks:
            now = time.perf_counter()
            if now > deadline:
                missing = "no websocket push arrived" if "push" not in marks else f"it is still {photo['status']!r}"
                raise SmokeFailed(f"photo {photo_id} was not ready within {timeout:.0f} s: {missing}")
            try:
                message = socket.recv(timeout=POLL_INTERVAL)
            except TimeoutError:
                message = None
            except Exception as exc:
                raise SmokeFailed(f"the websocket closed: {exc.__class__.__name__}: {exc}") from None
            if isinstance(message, str) and needle in message:
                marks.setdefault("push", time.perf_counter())
                next_poll = 0.0  # a push means the photo changed: look now, so the stage times are exact
            if "ready" not in marks and time.perf_counter() >= next_poll:
                next_poll = time.perf_counter() + POLL_INTERVAL
                answer = client.request("GET", f"/api/images/{photo_id}/")
                if answer.status != 200:
                    raise SmokeFailed(f"GET /api/images/{photo_id}/ answered {answer.status}")
                photo = answer.json()
                names = {variant["name"] for variant in photo["variants"]}
                if "thumbnail" not in marks and thumbnails <= names:
                    marks["thumbnail"] = time.perf_counter()
                if photo["status"] == "failed":
                    raise SmokeFailed(f"the render failed: {photo['error']}")
                if photo["status"] == "ready":
                    marks["ready"] = time.perf_counter()
                    marks.setdefault("thumbnail", marks["ready"])
                    marks["photo"] = photo
        return photo_id, marks

    def check_variants(self, client: Client, photo: dict) -> str:
        if not photo["variants"]:
            raise SmokeFailed("the photo is ready but lists no variants")
        sizes = []
        for variant in photo["variants"]:
            answer = client.request("GET", variant["url"])
            if answer.status != 200:
                raise SmokeFailed(f"{variant['name']}: GET {variant['url']} answered {answer.status}")
            if "bytes" in variant and len(answer.body) != variant["bytes"]:
                raise SmokeFailed(f"{variant['name']}: {len(answer.body)} bytes, the API says {variant['bytes']}")
            try:
                with Image.open(io.BytesIO(answer.body)) as image:
                    image.load()
                    if image.size != (variant["width"], variant["height"]):
                        raise SmokeFailed(
                            f"{variant['name']}: the file is {image.width}x{image.height}, "
                            f"the API says {variant['width']}x{variant['height']}"
                        )
                    if image.format != variant["format"]:
                        raise SmokeFailed(
                            f"{variant['name']}: the file is {image.format}, the API says {variant['format']}"
                        )
                    problem = upright_problem(image)
            except OSError as exc:
                raise SmokeFailed(f"{variant['name']}: not a readable image ({exc})") from None
            if problem:
                raise SmokeFailed(f"{variant['name']} is not upright: {problem}")
            sizes.append(f"{variant['name']} {variant['width']}x{variant['height']}")
        return f"{len(sizes)} upright, sizes match: {', '.join(sizes)}"

    def delete(self, client: Client, photo: dict) -> None:
        photo_id = photo["id"]
        answer = client.request("DELETE", f"/api/images/{photo_id}/?purge=1")
        if answer.status != 204:
            raise SmokeFailed(f"DELETE /api/images/{photo_id}/?purge=1 answered {answer.status}, expected 204")
        self.created_id = None
        answer = client.request("GET", f"/api/images/{photo_id}/")
        if answer.status != 404:
            raise SmokeFailed(f"photo {photo_id} is still there after DELETE (GET answered {answer.status})")
        for variant in photo["variants"]:
            answer = client.request("GET", variant["url"])
            if answer.status != 404:
                raise SmokeFailed(f"{variant['url']} is still served after DELETE (HTTP {answer.status})")

    def cleanup(self, client: Client, photo_id: int) -> None:
        try:
            answer = client.request("DELETE", f"/api/images/{photo_id}/?purge=1")
            self.stderr.write(f"cleaned up: DELETE photo {photo_id} answered {answer.status}")
        except SmokeFailed as exc:
            self.stderr.write(f"could not delete photo {photo_id}: {exc}")
