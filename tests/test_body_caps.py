"""Request bodies are capped before Daphne reads them (glowworm/daphne_tuning.py, gallery/uploads.py): 1 MB for any
request, an upload path's files for a caller with a valid session or API token, and nothing read from anyone else.

The live tests speak raw HTTP to a real Daphne. A socket timeout, never a measured time, is what fails them when the
server waits for a body instead of answering."""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.urls import resolve, reverse
from twisted.internet import defer
from twisted.internet.testing import StringTransport
from twisted.web import http

from gallery import uploads, views
from gallery.models import ApiToken, Photo
from glowworm import daphne_tuning
from tests.conftest import DATA

HOPPER = (DATA / "formats" / "hopper.jpg").read_bytes()
MB = 1024 * 1024
TIMEOUT = 10  # seconds a test waits for an answer; a server that waits for the body never gives one


# --- the caps --------------------------------------------------------------------------------------------------------


def test_upload_paths_take_their_files_from_logged_in_callers_only(settings):
    settings.GLOWWORM_MAX_UPLOAD_MB = 200
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 20
    assert uploads.body_cap("/upload/", may_upload=True) == 20 * 200 * MB + uploads.UPLOAD_ENVELOPE
    assert uploads.body_cap("/api/images/", may_upload=True) == 200 * MB + uploads.UPLOAD_ENVELOPE
    for path in ("/upload/", "/api/images/", "/login/", "/api/images/1/", "/upload"):
        assert uploads.body_cap(path, may_upload=False) == MB
    assert uploads.body_cap("/login/", may_upload=True) == MB


def test_the_upload_paths_are_the_upload_views():
    assert reverse("upload") in settings.GLOWWORM_UPLOAD_PATHS
    assert resolve("/upload/").func is views.upload
    match = resolve("/api/images/")  # the API's images collection: GET lists, POST uploads one file
    assert match.namespace == "api" and match.url_name == "list_images"
    assert settings.GLOWWORM_UPLOAD_PATHS["/api/images/"] == 1


def test_the_path_is_the_one_django_routes(settings):
    assert daphne_tuning.django_path(b"/up%6Coad/?album=3") == "/upload/"
    settings.GLOWWORM_ROOT_PATH = "/photos/"
    assert daphne_tuning.django_path(b"/photos/api/images/") == "/api/images/"
    assert daphne_tuning.django_path(b"/api/images/") == "/api/images/"  # a proxy that strips the prefix


def test_daphne_makes_capped_requests():
    from daphne.http_protocol import HTTPFactory

    import glowworm.asgi  # noqa: F401  (applies the tuning, as Daphne's import of the application does)

    protocol = HTTPFactory(SimpleNamespace()).buildProtocol(None)
    assert protocol.requestFactory is daphne_tuning.CappedRequest


# --- who may upload --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_token_may_upload_and_a_forged_or_disabled_one_may_not(user):
    _, plain = ApiToken.issue(user)
    assert uploads.may_upload(authorization=f"Bearer {plain}", cookie=None)
    assert not uploads.may_upload(authorization="Bearer gw_forged", cookie=None)
    assert not uploads.may_upload(authorization=None, cookie=None)
    user.is_active = False
    user.save()
    assert not uploads.may_upload(authorization=f"Bearer {plain}", cookie=None)


@pytest.mark.django_db
def test_a_logged_in_session_may_upload_and_a_forged_or_stale_one_may_not(user):
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    assert uploads.may_upload(authorization=None, cookie=f"csrftoken=x; {cookie}")
    assert uploads.may_upload(authorization="Basic cHJveHk6cGFzcw==", cookie=cookie)  # a proxy's own log-in
    assert not uploads.may_upload(authorization=None, cookie=f"{settings.SESSION_COOKIE_NAME}={'a' * 32}")
    assert not uploads.may_upload(authorization="Bearer gw_forged", cookie=cookie)  # a token decides alone
    user.set_password("another long password")  # logs out every session, as Django does
    user.save()
    assert not uploads.may_upload(authorization=None, cookie=cookie)


@pytest.mark.django_db(transaction=True)
def test_the_credential_check_closes_its_database_connection(user):
    _, plain = ApiToken.issue(user)
    seen = {}

    def check():
        seen["may"] = daphne_tuning.may_upload_in_thread(authorization=f"Bearer {plain}", cookie=None)
        seen["open"] = connections["default"].connection is not None

    thread = threading.Thread(target=check)
    thread.start()
    thread.join(TIMEOUT)
    assert seen == {"may": True, "open": False}


# --- the Twisted side, with the credential check under the test's control ---------------------------------------------


class Server:
    def protocol_connected(self, request):
        pass

    def protocol_disconnected(self, request):
        pass


@pytest.fixture
def channel(monkeypatch):
    """An HTTP channel making CappedRequests over an in-memory transport; the test answers the credential checks
    (`channel.checks`) and sees which requests reached the application (`channel.processed`)."""
    checks, processed = [], []

    def defer_to_thread(function, **kwargs):
        checks.append(defer.Deferred())
        return checks[-1]

    monkeypatch.setattr(daphne_tuning.threads, "deferToThread", defer_to_thread)
    monkeypatch.setattr(daphne_tuning.CappedRequest, "process", lambda request: processed.append(request))
    channel_ = http.HTTPChannel()
    channel_.timeOut = None
    channel_.requestFactory = daphne_tuning.CappedRequest
    channel_.factory = SimpleNamespace(server=Server())
    channel_.makeConnection(StringTransport())
    channel_.checks, channel_.processed = checks, processed
    return channel_


def test_an_upload_waits_for_its_credentials_with_the_transport_paused(channel):
    body = b"x" * 1000
    channel.dataReceived(b"POST /api/images/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + body)
    assert channel.transport.producerState == "paused" and len(channel.checks) == 1
    assert channel.processed == []  # the whole body is in, but the application waits for the check
    channel.checks[0].callback(True)
    assert channel.transport.producerState == "producing"
    [request] = channel.processed
    assert request.content.read() == body


def test_an_upload_with_forged_credentials_is_answered_401_and_closed(channel):
    channel.dataReceived(
        b"POST /api/images/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer forged\r\nExpect: 100-continue\r\n"
        b"Content-Length: 300000000\r\n\r\n"
    )
    assert channel.transport.value() == b""  # no `100 Continue` before the check
    channel.checks[0].callback(False)
    answer = channel.transport.value()
    assert answer.startswith(b"HTTP/1.1 401 ") and b"100 Continue" not in answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"error": uploads.not_logged_in().message}
    assert channel.transport.disconnecting and channel.processed == []


def test_an_upload_that_waits_for_100_continue_gets_it_once_its_credentials_pass(channel):
    channel.dataReceived(
        b"POST /upload/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"
    )
    channel.checks[0].callback(True)
    assert channel.transport.value() == b"HTTP/1.1 100 Continue\r\n\r\n"
    channel.dataReceived(b"y" * 5_000_000)
    assert len(channel.processed) == 1


def test_a_failed_credential_check_is_answered_503(channel):
    channel.dataReceived(b"POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
    channel.checks[0].errback(RuntimeError("database down"))
    assert channel.transport.value().startswith(b"HTTP/1.1 503 ") and channel.transport.disconnecting


def test_a_chunked_body_stops_being_stored_at_the_cap(channel):
    channel.dataReceived(b"POST /login/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    [request] = channel.requests
    piece = b"%x\r\n%s\r\n" % (64 * 1024, b"z" * 64 * 1024)
    for _ in range(20):  # 1.25 MB
        channel.dataReceived(piece)
    assert channel.transport.value().startswith(b"HTTP/1.1 413 ") and channel.transport.disconnecting
    assert request.body_received == MB + 64 * 1024  # counted up to the piece that passed the cap, never stored
    assert request.content.closed and channel.processed == []


def test_requests_without_a_body_and_small_ones_go_straight_through(channel):
    channel.dataReceived(b"GET /api/images/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert channel.checks == [] and len(channel.processed) == 1


# --- a real Daphne ---------------------------------------------------------------------------------------------------


def connect(live) -> socket.socket:
    return socket.create_connection(("127.0.0.1", live.port), timeout=TIMEOUT)


def read_answer(sock: socket.socket) -> tuple[int, dict, bytes]:
    """Status, headers and body of the next answer; a socket timeout (the server is waiting for us) fails the test."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed without an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    length = int(headers.get("content-length", ["-1"])[0])
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def post_head(path: str, length: int | None, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    lines.append("Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(files: list[tuple[str, str, bytes]], fields: dict | None = None) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (fields or {}).items()
    ]
    for field, name, content in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def token(user):
    return ApiToken.issue(user)[1]


@pytest.fixture
def session_headers(user):
    """Cookie and CSRF headers of a logged-in browser."""
    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (f"Cookie: csrftoken={csrf}; {settings.SESSION_COOKIE_NAME}={session}", f"X-CSRFToken: {csrf}")


@pytest.mark.live
def test_an_anonymous_post_declaring_a_gigabyte_is_refused_before_its_body(live):
    with connect(live) as sock:
        sock.sendall(post_head("/login/", 1024**3, "Content-Type: application/x-www-form-urlencoded"))
        status, headers, body = read_answer(sock)
        assert status == 413, live.output()
        assert body.decode().strip() == "The request is larger than the 1 MB limit."
        assert headers["connection"] == ["close"] and closed(sock)


@pytest.mark.live
@pytest.mark.parametrize("path", ["/api/images/", "/upload/"])
@pytest.mark.parametrize(
    "credential",
    ["Cookie: sessionid=forgedforgedforgedforgedforged12", "Authorization: Bearer gw_forged", "Accept: */*"],
    ids=["forged-session", "forged-token", "none"],
)
def test_an_upload_without_valid_credentials_is_401_before_any_body_is_sent(live, path, credential):
    with connect(live) as sock:
        sock.sendall(post_head(path, 300 * MB, credential, "Content-Type: multipart/form-data; boundary=x"))
        status, headers, body = read_answer(sock)
        assert status == 401, live.output()
        if path.startswith("/api/"):
            assert json.loads(body) == {"error": uploads.not_logged_in().message}
        assert closed(sock)
    assert Photo.objects.count() == 0


@pytest.mark.live
def test_a_valid_token_over_the_upload_cap_is_413(live, token):
    with connect(live) as sock:
        too_much = uploads.body_cap("/api/images/", may_upload=True) + 1
        sock.sendall(post_head("/api/images/", too_much, f"Authorization: Bearer {token}"))
        status, _, body = read_answer(sock)
        assert status == 413, live.output()
        assert json.loads(body) == {"error": f"The file is larger than the {settings.GLOWWORM_MAX_UPLOAD_MB} MB limit."}
        assert closed(sock)


@pytest.mark.live
def test_a_logged_in_page_over_the_upload_cap_is_413(live, session_headers):
    with connect(live) as sock:
        sock.sendall(post_head("/upload/", uploads.body_cap("/upload/", may_upload=True) + 1, *session_headers))
        status, _, body = read_answer(sock)
        assert status == 413, live.output()
        assert "at most 20 files" in body.decode()


@pytest.mark.live
@pytest.mark.parametrize("expect", [False, True], ids=["at-once", "expect-100-continue"])
def test_a_valid_token_still_uploads(live, token, expect):
    body, content_type = multipart([("file", "hopper.jpg", HOPPER)])
    headers = [f"Authorization: Bearer {token}", f"Content-Type: {content_type}"]
    with connect(live) as sock:
        if expect:
            sock.sendall(post_head("/api/images/", len(body), *headers, "Expect: 100-continue"))
            assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(body)
        else:
            sock.sendall(post_head("/api/images/", len(body), *headers) + body)
        status, _, answer = read_answer(sock)
    assert status == 201, answer + live.output().encode()
    assert Photo.objects.filter(pk=json.loads(answer)["id"]).exists()


@pytest.mark.live
def test_a_logged_in_page_still_uploads(live, session_headers):
    body, content_type = multipart([("files", "hopper.jpg", HOPPER)])
    with connect(live) as sock:
        sock.sendall(
            post_head("/upload/", len(body), *session_headers, "HX-Request: true", f"Content-Type: {content_type}")
            + body
        )
        status, _, answer = read_answer(sock)
    assert status == 201, answer + live.output().encode()
    assert Photo.objects.filter(original_name="hopper.jpg").exists()


@pytest.mark.live
def test_a_chunked_body_is_cut_off_at_the_cap_and_the_connection_closed(live):
    piece = b"%x\r\n%s\r\n" % (64 * 1024, b"z" * 64 * 1024)
    sent = 0
    with connect(live) as sock:
        sock.sendall(post_head("/login/", None, "Content-Type: application/x-www-form-urlencoded"))
        try:
            while sent < 64 * MB:  # the server stops reading long before
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 32 * MB  # what the kernels' buffers hold, at most
        status, _, body = read_answer(sock)
        assert status == 413, live.output()
        assert b"larger than the 1 MB limit" in body
        assert closed(sock)


@pytest.mark.live
def test_twenty_one_files_in_one_upload_are_refused_with_a_clear_message(live, session_headers):
    body, content_type = multipart([("files", f"copy{n}.jpg", HOPPER) for n in range(21)])
    with connect(live) as sock:
        sock.sendall(post_head("/upload/", len(body), *session_headers, f"Content-Type: {content_type}") + body)
        status, _, answer = read_answer(sock)
    assert status == 400, answer
    assert "Too many files in one request: send at most 20 at a time." in answer.decode()
    assert Photo.objects.count() == 0


@pytest.mark.live
def test_the_login_form_and_the_websocket_still_work(live, user):
    from websockets.sync.client import connect as websocket

    with connect(live) as sock:
        sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, page = read_answer(sock)
        assert status == 200
        csrf = re.search(r"csrftoken=(\w+)", " ".join(headers["set-cookie"])).group(1)
        form_token = re.search(rb'name="csrfmiddlewaretoken" value="(\w+)"', page).group(1).decode()
        form = f"csrfmiddlewaretoken={form_token}&username=alice&password=correct+horse+battery".encode()
        sock.sendall(
            post_head(
                "/login/", len(form), f"Cookie: csrftoken={csrf}", "Content-Type: application/x-www-form-urlencoded"
            )
            + form
        )
        status, headers, _ = read_answer(sock)
        assert status == 302 and headers["location"] == ["/"], live.output()
        session = re.search(r"sessionid=(\w+)", " ".join(headers["set-cookie"])).group(1)

    with websocket(
        f"ws://127.0.0.1:{live.port}/ws/gallery/",
        additional_headers={"Cookie": f"sessionid={session}"},
        origin=live.url,
        open_timeout=TIMEOUT,
    ) as ws:  # a refused socket (not logged in) fails the handshake
        ws.send(json.dumps({"sync": {"pending": [], "after": 0}}))
        assert ws.ping().wait(TIMEOUT)
