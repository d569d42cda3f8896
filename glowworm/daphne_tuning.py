"""Daphne behaviour that has no option: applied by glowworm.asgi, so it holds wherever Daphne serves us."""

import logging
from http import HTTPStatus
from urllib.parse import unquote

from daphne import http_protocol
from daphne.http_protocol import WebRequest
from django.conf import settings
from django.db import connections
from twisted.internet import threads

from gallery import uploads

logger = logging.getLogger(__name__)


def skip_twisted_form_parsing() -> None:
    """Twisted parses every buffered POST body, multipart included, into request.args, which Daphne never reads
    (Django parses the body itself, streaming it to disk). For a 12 MB photo that cost ~350 ms of CPU per upload."""
    original = WebRequest.__init__
    if getattr(original, "skips_form_parsing", False):
        return

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    __init__.skips_form_parsing = True
    WebRequest.__init__ = __init__


class CappedRequest(WebRequest):
    """A Daphne request whose body may not pass its path's cap (gallery.uploads.body_cap), enforced while Twisted
    receives it, before anything reaches Django.

    Twisted calls gotLength once the headers are in and before it reads any of the body, then handleContentChunk
    with each piece of the body, then requestReceived when the body is complete (which starts the application).
    A declared Content-Length over the cap is answered 413 at once; a chunked body is cut off at the cap. On an
    upload path, only a caller with a valid session or Bearer token gets the larger upload cap: the transport is
    paused while a thread looks the credentials up, and a missing or forged one is answered 401. Until the caller is
    known, the small cap holds for what was read already (one socket read at most).

    Every refusal answers, then closes the connection without reading the rest of the body. A client still sending
    it gets a reset once the answer is out (on Linux it can still read the answer first); clients that send
    `Expect: 100-continue`, like curl, wait for the answer and send nothing.
    """

    target = ""  # the path as Django will route it
    target_method = ""
    body_cap: int | None = None  # bytes; None when the request has no body
    body_received = 0
    checking = False  # credentials are being looked up, the transport is paused
    refused = False
    continue_after_check = False
    held: tuple | None = None  # requestReceived's arguments, while checking

    def gotLength(self, length):
        super().gotLength(length)
        if length == 0:
            return  # no body: neither Content-Length nor chunked
        self.target, self.target_method = django_path(self.channel._path), self.channel._command.decode("latin-1")
        self.body_cap = uploads.body_cap(self.target, may_upload=False)
        if not uploads.is_upload_path(self.target):
            if length is not None and length > self.body_cap:
                self.refuse(uploads.body_too_large(self.target, may_upload=False))
            return
        # Twisted sends `100 Continue` right after this returns; it waits for the credentials instead.
        expect = self.requestHeaders.getRawHeaders(b"expect") or [b""]
        self.continue_after_check = expect[0].lower() == b"100-continue" and self.channel._version == b"HTTP/1.1"
        self.requestHeaders.removeHeader(b"expect")
        self.checking = True
        self.transport.pauseProducing()
        check = threads.deferToThread(
            may_upload_in_thread, authorization=self.header(b"authorization"), cookie=self.header(b"cookie", b"; ")
        )
        check.addCallback(self.credentials_checked, length)
        check.addErrback(self.check_failed)

    def credentials_checked(self, may_upload: bool, length: int | None) -> None:
        self.checking = False
        if self.refused or self._disconnected:
            return
        if not may_upload:
            return self.refuse(uploads.not_logged_in())
        self.body_cap = uploads.body_cap(self.target, may_upload=True)
        if length is not None and length > self.body_cap:
            return self.refuse(uploads.body_too_large(self.target, may_upload=True))
        held, self.held = self.held, None
        if self.continue_after_check and held is None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.transport.resumeProducing()
        if held is not None:
            super().requestReceived(*held)

    def check_failed(self, failure) -> None:
        logger.error("Could not check the credentials of an upload", exc_info=failure.value)
        if not (self.refused or self._disconnected):
            self.refuse(uploads.check_failed())

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.body_received += len(data)
        if self.body_received > self.body_cap:
            return self.refuse(uploads.body_too_large(self.target, may_upload=not self.checking))
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.refused:
            return
        if self.checking:
            self.held = (command, path, version)
            return
        super().requestReceived(command, path, version)

    def refuse(self, refusal: uploads.UploadRejected) -> None:
        """Answer and close the connection, and forget what was received; the application never sees the request."""
        self.refused = True
        self.checking = False
        self.requestHeaders.removeHeader(b"expect")  # no `100 Continue` after the answer
        if self.content is not None:
            self.content.close()  # a temporary file goes with it
        status, content_type, body = uploads.refusal_response(self.target, refusal)
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)
        self.channel.loseConnection()
        logger.info("Refused %s %s before its body: %s %s", self.target_method, self.target, status, refusal.kind)

    def header(self, name: bytes, separator: bytes = b",") -> str | None:
        """A header as Django will see it (repeated ones joined)."""
        values = self.requestHeaders.getRawHeaders(name)
        return separator.join(values).decode("latin-1") if values else None


def may_upload_in_thread(**credentials) -> bool:
    """gallery.uploads.may_upload, in a thread of the reactor's pool. Django's request cycle, which closes a thread's
    database connections, never runs there: this closes them itself."""
    try:
        return uploads.may_upload(**credentials)
    finally:
        connections.close_all()


def django_path(uri: bytes) -> str:
    """The path Django routes a request URI by: decoded as Daphne does, less the root path as Django removes it."""
    path = unquote(uri.split(b"?", 1)[0].decode("latin-1"))
    root = settings.GLOWWORM_ROOT_PATH.rstrip("/")
    return path.removeprefix(root) if root else path


def cap_request_bodies() -> None:
    """Daphne makes every request from the WebRequest of its module; make them CappedRequests."""
    if not issubclass(http_protocol.WebRequest, CappedRequest):
        http_protocol.WebRequest = CappedRequest


class FixedRootPath:
    """ASGI middleware: the root path is ours to set (GLOWWORM_ROOT_PATH), never the client's. Daphne takes it from
    a `Daphne-Root-Path` request header, which would let anyone change the prefix of every URL we build."""

    def __init__(self, app, root_path: str = ""):
        self.app = app
        self.root_path = root_path.rstrip("/")

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("root_path", "") != self.root_path:
            scope = dict(scope, root_path=self.root_path)
        return await self.app(scope, receive, send)
