"""Hostile input through the real upload endpoints: the HTMX form (/upload/, field `files`) and the JSON API
(/api/images/, field `file`). Every bad input gets a 4xx with a message a person can act on, and leaves nothing
behind: no row, no file under MEDIA_ROOT, no temporary file, no job. Plus CSRF, a websocket from another origin,
and an anonymous request to every URL in the URL conf."""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from html import escape, unescape
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from channels.testing import WebsocketCommunicator
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from gallery.models import Photo
from tests import private_redis
from tests.conftest import DATA

pytestmark = pytest.mark.django_db

# Fixtures: a Redis server of this module's own (see tests/private_redis.py).
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
run_worker = private_redis.run_worker

HOPPER = (DATA / "formats" / "hopper.jpg").read_bytes()


def png_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header that claims a huge canvas, with a few bytes of pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def png_with_bad_checksum() -> bytes:
    data = bytearray(png_bytes())
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip a byte of the compressed pixels: the chunk's CRC no longer matches
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(HOPPER)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at != -1:
            data[at + 5 : at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
    raise AssertionError("hopper.jpg has no SOF marker")


def gif_with_no_pixels() -> bytes:
    return b"GIF89a" + struct.pack("<HHBBB", 0, 0, 0, 0, 0) + b",\0\0\0\0\0\0\0\0\0\x02\x02D\x01\0;"


def zip_of_photo() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hopper.jpg", HOPPER)
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>fetch('/api/images/').then(r=>r.text()).then(alert)</script></body></html>"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<<>>\n%%EOF"
)

NOT_ACCEPTED = (415, "This is not an image we accept. Upload JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF, MPO or TIFF.")
TOO_MANY_PIXELS = (413, "The image is too large: more than 150 million pixels.")  # GLOWWORM_MAX_PIXELS
DAMAGED = "The image is damaged or cut short and cannot be read ("
BAD_HEADER = (400, DAMAGED + "its header is incomplete or invalid).")

# name shown to the server, content, (status, the message or the start of it). Both endpoints answer the same.
BAD_FILES = {
    "zero bytes": ("empty.jpg", b"", (400, "The file is empty.")),
    "random bytes named .jpg": ("random.jpg", bytes(range(256)) * 40, NOT_ACCEPTED),
    "truncated JPEG": (
        "cut.jpg",
        (DATA / "bad" / "truncated_jpeg.jpg").read_bytes(),
        (400, DAMAGED + "image file is truncated"),
    ),
    "truncated PNG": ("cut.png", png_bytes((300, 300))[:300], (400, DAMAGED + "the 'IDAT' chunk is missing ")),
    "truncated HEIC": (
        "cut.heic",
        (DATA / "bad" / "truncated.heic").read_bytes(),
        (400, DAMAGED + "the 'mdat' box is missing its last 1 bytes)."),
    ),
    "truncated AVIF": ("cut.avif", (DATA / "formats" / "avif_hopper.avif").read_bytes()[:1500], BAD_HEADER),
    "PNG claiming 100000 x 100000": ("huge.png", png_claiming(100_000, 100_000), TOO_MANY_PIXELS),
    "JPEG claiming 65000 x 65000": ("huge.jpg", jpeg_claiming(65_000, 65_000), TOO_MANY_PIXELS),
    "GIF decompression bomb": (
        "bomb.gif",
        (DATA / "bad" / "decompression_bomb.gif").read_bytes(),
        TOO_MANY_PIXELS,
    ),
    "GIF with no pixels": ("nothing.gif", gif_with_no_pixels(), BAD_HEADER),
    "PNG with a bad checksum": (
        "crc.png",
        png_with_bad_checksum(),
        (400, DAMAGED + "the 'IDAT' chunk fails its checksum)."),
    ),
    "JPEG start marker only": ("soi.jpg", b"\xff\xd8\xff", BAD_HEADER),
    "PNG signature only": ("sig.png", b"\x89PNG\r\n\x1a\n", BAD_HEADER),
    "GIF header only": ("head.gif", b"GIF89a", BAD_HEADER),
    "WebP RIFF header only": ("head.webp", b"RIFF\x10\0\0\0WEBPVP8 ", (400, DAMAGED)),  # then libwebp's words
    "SVG with a script": ("evil.svg", SVG, NOT_ACCEPTED),
    "SVG with a script named .png": ("evil.png", SVG, NOT_ACCEPTED),
    "HTML named .png": ("page.png", HTML, NOT_ACCEPTED),
    "PDF": ("doc.pdf", PDF, NOT_ACCEPTED),
    "ZIP of a photo": ("photos.zip", zip_of_photo(), NOT_ACCEPTED),
    "BMP (not an accepted format)": ("old.bmp", b"BM" + b"\0" * 60, NOT_ACCEPTED),
    "ICO": ("favicon.ico", b"\0\0\1\0\1\0\x10\x10" + b"\0" * 60, NOT_ACCEPTED),
    "PSD": ("layers.psd", b"8BPS\0\1" + b"\0" * 60, NOT_ACCEPTED),
    "Windows program named .jpg": (
        "setup.jpg",
        b"MZ\x90\0" + b"\0" * 200 + b"This program cannot be run in DOS",
        NOT_ACCEPTED,
    ),
    "ELF program named .png": ("tool.png", Path("/bin/true").read_bytes()[:8192], NOT_ACCEPTED),
    "PHP script named .jpg": ("shell.jpg", b"<?php system($_GET['c']); ?>", NOT_ACCEPTED),
    "text named .heic": ("notes.heic", b"just some notes\n" * 20, NOT_ACCEPTED),
    "JSON": ("data.json", b'{"file": "hopper.jpg"}', NOT_ACCEPTED),
    "MP4 named .heic": (
        "clip.heic",
        struct.pack(">I", 24) + b"ftypisom\0\0\2\0isomiso2" + b"\0" * 100,
        NOT_ACCEPTED,
    ),
}


@pytest.fixture
def upload_temp_dir(settings, tmp_path):
    directory = tmp_path / "upload-tmp"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    return directory


def assert_nothing_stored(media_root: Path, upload_temp_dir: Path, redis_conn) -> None:
    assert Photo.objects.count() == 0
    assert [path for path in media_root.rglob("*") if path.is_file()] == []
    assert list(upload_temp_dir.iterdir()) == []
    assert redis_conn.llen("rq:queue:default") == 0


def post_form(client, name: str, content: bytes):
    return client.post("/upload/", {"files": _file(name, content)}, headers={"HX-Request": "true"})


def post_api(client, name: str, content: bytes):
    return client.post("/api/images/", {"file": _file(name, content)})


def _file(name: str, content: bytes):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_bad_file_is_refused_with_a_message_and_nothing_stored(
    client_logged_in, media_root, upload_temp_dir, redis_conn, endpoint, case
):
    name, content, (status, says) = BAD_FILES[case]
    if endpoint == "form":
        response = post_form(client_logged_in, name, content)
        html = response.content.decode()
        assert 'class="upload-result upload-result--error"' in html, html
        assert f"<strong>{escape(name)}</strong>: " in html  # the message names the file it is about
        message = unescape(html.split("</strong>: ", 1)[1].split("</li>", 1)[0])
    else:
        response = post_api(client_logged_in, name, content)
        assert response["Content-Type"] == "application/json"
        message = response.json()["error"]
    assert (response.status_code, message[: len(says)]) == (status, says), message
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_file_over_the_limit_is_cut_off_while_streaming(
    client_logged_in, media_root, upload_temp_dir, redis_conn, settings, monkeypatch, endpoint
):
    settings.GLOWWORM_MAX_UPLOAD_MB = 1
    written = []
    original = TemporaryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(
        TemporaryFileUploadHandler,
        "receive_data_chunk",
        lambda self, raw_data, start: written.append(len(raw_data)) or original(self, raw_data, start),
    )
    content = HOPPER + b"\0" * (3 * 1024 * 1024)
    post = post_form if endpoint == "form" else post_api
    response = post(client_logged_in, "big.jpg", content)
    assert response.status_code == 413
    assert "larger than the 1 MB limit" in response.content.decode()
    # The handler stopped writing at the limit instead of receiving all 3 MB first.
    assert sum(written) <= 1024 * 1024
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_a_thousand_field_form_is_refused(client_logged_in, media_root, upload_temp_dir, redis_conn, endpoint):
    fields = {f"field{number}": "x" for number in range(1001)}
    fields["files" if endpoint == "form" else "file"] = _file("hopper.jpg", HOPPER)
    response = client_logged_in.post("/upload/" if endpoint == "form" else "/api/images/", fields)
    assert response.status_code == 400
    assert "too many fields" in response.content.decode().lower()
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


def test_too_many_files_in_one_request_are_refused(client_logged_in, media_root, upload_temp_dir, redis_conn, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    files = [_file(f"copy{number}.jpg", HOPPER) for number in range(6)]
    response = client_logged_in.post("/upload/", {"files": files}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "too many files" in response.content.decode().lower()
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_a_request_without_csrf_token_is_refused(user, media_root, upload_temp_dir, redis_conn, endpoint):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    post = post_form if endpoint == "form" else post_api
    response = post(client, "hopper.jpg", HOPPER)
    assert response.status_code == 403
    assert "csrf" in response.content.decode().lower()
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


def test_a_part_without_a_file_is_refused(client_logged_in, media_root, upload_temp_dir, redis_conn):
    response = client_logged_in.post("/upload/", {"files": "not a file"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Choose at least one photo" in response.content.decode()
    response = client_logged_in.post("/api/images/", {"file": "not a file"})
    assert response.status_code == 400 and "exactly one file" in response.json()["error"]
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


@pytest.mark.parametrize("payload", [HTML, b"<script>alert(1)</script>"], ids=["html", "javascript"])
def test_jpeg_with_a_payload_appended_is_only_ever_served_as_an_image(
    client_logged_in, media_root, redis_conn, payload
):
    from processing import jobs

    response = post_api(client_logged_in, "innocent.jpg", HOPPER + payload)
    assert response.status_code == 201  # the image itself is fine: it is accepted, then re-encoded
    photo = Photo.objects.get(pk=response.json()["id"])
    assert jobs.render_now(photo.pk) == "ready"
    for variant in photo.variants.all():
        served = client_logged_in.get(variant.url)
        assert served["Content-Type"] in ("image/webp", "image/jpeg")
        assert served["X-Content-Type-Options"] == "nosniff"
        assert payload not in b"".join(served.streaming_content)
    original = client_logged_in.get(f"/photos/{photo.pk}/original/")
    assert original["Content-Type"] == "image/jpeg"
    assert original["Content-Disposition"].startswith("attachment")
    assert original["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_gif_whose_later_frame_is_a_bomb_is_accepted_and_only_its_safe_first_frame_rendered(
    client_logged_in, media_root, upload_temp_dir, redis_conn, endpoint
):
    """Accepted, not refused: a GIF shows its first frame (100 x 100 here), and nothing ever decodes the later
    frame whose extents are the bomb (Pillow raises DecompressionBombError only when seeking to it)."""
    from processing import jobs

    post = post_form if endpoint == "form" else post_api
    response = post(client_logged_in, "bomb2.gif", (DATA / "bad" / "decompression_bomb_extents.gif").read_bytes())
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert jobs.render_now(photo.pk) == "ready"
    assert {(v.width, v.height) for v in photo.variants.all()} == {(100, 100)}  # the 100 x 100 first frame


HOSTILE_NAMES = {
    "path traversal": ("../../../../etc/passwd.jpg", "passwd.jpg"),
    "windows path traversal": ("..\\..\\windows\\win.jpg", "win.jpg"),
    "NUL byte": ("photo\x00.php.jpg", "photo.php.jpg"),
    "300 characters": ("a" * 300 + ".jpg", "a" * 190 + "….jpg"),
    "right-to-left override": ("photo\u202egpj.exe", "photogpj.exe"),
    "emoji": ("🌅 sunset 🎉.jpg", "🌅 sunset 🎉.jpg"),
}


@pytest.mark.parametrize("case", HOSTILE_NAMES, ids=list(HOSTILE_NAMES))
@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_hostile_file_names_never_become_paths(client_logged_in, media_root, upload_temp_dir, endpoint, case):
    """A valid photo with a hostile name is accepted; the name is only ever shown, cleaned; the file is stored
    under a generated name inside MEDIA_ROOT."""
    name, shown = HOSTILE_NAMES[case]
    post = post_form if endpoint == "form" else post_api
    response = post(client_logged_in, name, HOPPER)
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert photo.original_name == shown
    assert len(photo.original_name) <= 200
    assert not any(character in photo.original_name for character in "/\\\x00\u202e")
    stored = [path for path in media_root.rglob("*") if path.is_file()]
    assert stored == [media_root / photo.original]
    assert photo.original == f"originals/{photo.key.hex[:2]}/{photo.key.hex}.jpg"
    assert list(upload_temp_dir.iterdir()) == []


@pytest.mark.parametrize("endpoint", ["form", "api"])
def test_a_five_thousand_character_file_name_is_refused(
    client_logged_in, media_root, upload_temp_dir, redis_conn, endpoint
):
    post = post_form if endpoint == "form" else post_api
    response = post(client_logged_in, "a" * 5000 + ".jpg", HOPPER)
    assert response.status_code == 400
    assert "file name is far too long" in response.content.decode()
    assert_nothing_stored(media_root, upload_temp_dir, redis_conn)


def connect_websocket(origin: bytes, cookie: str) -> bool:
    from glowworm.asgi import application

    async def attempt() -> bool:
        communicator = WebsocketCommunicator(
            application,
            "/ws/gallery/",
            headers=[(b"origin", origin), (b"host", b"localhost"), (b"cookie", cookie.encode())],
        )
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    # A thread of its own: after a browser test, Playwright's event loop occupies this one.
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, attempt()).result()


@pytest.fixture
def in_memory_channel_layer(settings):
    """A layer of this test's own: the Redis layer object is shared with other tests' event loops."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
def test_websocket_from_another_origin_is_refused(client_logged_in, in_memory_channel_layer):
    cookie = f"sessionid={client_logged_in.cookies['sessionid'].value}"
    assert connect_websocket(b"http://localhost", cookie) is True  # the same page's own socket works
    assert connect_websocket(b"https://evil.example", cookie) is False
    assert connect_websocket(b"null", cookie) is False
    assert connect_websocket(b"http://localhost", "sessionid=forged") is False  # and no session: no socket


# Open to anyone. "frame" is a photo frame's start page: it shows a pairing code to a device with no secret yet.
OPEN_URL_NAMES = {"login", "admin:login", "healthz", "frame"}
# A frame's own endpoints need the frame's secret cookie, not a login, and refuse without it before looking anything
# up (so a broken route or a missing object cannot pass for a refusal); the pairing QR code needs the claim cookie
# of a browser that shows a code.
FRAME_SECRET_URL_NAMES = {"frame-state", "frame-variant"}
PAIRING_URL_NAMES = {"frame-qr"}
# Share links and invites: the token in the URL is the key, and a wrong one (the sample "x") finds nothing.
TOKEN_URL_NAMES = {"share", "share-photo", "share-variant", "share-download", "invite"}
SAMPLE_VALUES = {"int": "1", "id": "1", "str": "x", "path": "variants/ab/x.webp", "slug": "x", "uuid": "0" * 32}


def every_url(patterns=None, prefix="", namespace=""):
    """(name, url) for every pattern in the URL conf, with sample values for its parameters."""
    import re

    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = str(pattern.pattern)
        route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_VALUES[m.group(1) or "str"], route)
        route = re.sub(r"\(\?P<\w+>[^)]*\)\??", "", route).replace("^", "").replace("$", "").replace("/?", "/")
        route = route.replace("\\", "")
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from every_url(pattern.url_patterns, prefix + route, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", "/" + prefix + route


def expected_anonymous_answer(name: str) -> tuple[int, str]:
    """(status, what the answer must say, or where it must redirect) for a request with no login and no cookie."""
    if name in FRAME_SECRET_URL_NAMES:
        return 403, "This browser is not a paired frame."
    if name in PAIRING_URL_NAMES:
        return 403, "403 Forbidden"
    if name in TOKEN_URL_NAMES:
        return 404, ""
    if name.startswith("api:"):
        return 401, '{"error": "Log in or send an API token'
    if name == "setup":
        return 302, "/login/"  # the first account exists: setup is closed
    return 302, "login"


def test_anonymous_requests_to_every_url_are_sent_to_log_in(user):
    urls = list(every_url())
    assert len(urls) > 60  # the gallery, the API, the admin and the RQ dashboard
    names = {name for name, _ in urls}
    assert FRAME_SECRET_URL_NAMES | PAIRING_URL_NAMES | TOKEN_URL_NAMES | OPEN_URL_NAMES <= names
    for name, url in urls:
        if name in OPEN_URL_NAMES:
            continue
        status, says = expected_anonymous_answer(name)
        for method in ("get", "post"):
            response = getattr(Client(), method)(url)  # a new client each time: no cookie carried over
            assert response.status_code == status, (method, name, url, response.status_code)
            if status != 302:
                assert says in response.content.decode(), (method, name, url, response.content[:200])
            elif says == "login":
                location = urlsplit(response["Location"])
                assert location.path in ("/login/", "/admin/login/"), (method, name, url, response["Location"])
                assert unquote(parse_qs(location.query)["next"][0]) == url, (method, name, response["Location"])
            else:
                assert response["Location"] == says, (method, name, url, response["Location"])
    assert Client().get("/login/").status_code == 200
    assert Client().get("/admin/login/").status_code == 200
    kiosk = Client().get("/frame/")
    assert kiosk.status_code == 200 and 'id="pairing-code"' in kiosk.content.decode()
    stylesheet = Client().get("/static/css/glowworm.css")  # static files need no login
    assert stylesheet.status_code == 200 and stylesheet["Content-Type"].startswith("text/css")
