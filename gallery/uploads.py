"""Upload handling: stream to a temporary file in chunks, stop a file as soon as it is too large, and the kinds of
refusal with the one table that maps them to HTTP statuses."""

import json
from enum import StrEnum

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

from processing.imaging import ImageRejected


class Refusal(StrEnum):
    EMPTY = "empty"
    NO_FILE = "no-file"
    TOO_LARGE = "too-large"  # bytes over GLOWWORM_MAX_UPLOAD_MB
    # As processing.imaging.Rejection names them:
    NOT_ACCEPTED = "not-accepted"
    TOO_MANY_PIXELS = "too-many-pixels"
    DAMAGED = "damaged"


HTTP_STATUS = {
    Refusal.EMPTY: 400,
    Refusal.NO_FILE: 400,
    Refusal.TOO_LARGE: 413,
    Refusal.NOT_ACCEPTED: 415,
    Refusal.TOO_MANY_PIXELS: 413,
    Refusal.DAMAGED: 400,
}


class UploadRejected(Exception):
    """An upload we refuse; nothing of it was stored. The message is for a person, the kind decides the status."""

    def __init__(self, kind: Refusal, message: str):
        super().__init__(message)
        self.kind = Refusal(kind)
        self.message = message

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.kind]

    @classmethod
    def from_image(cls, exc: ImageRejected) -> "UploadRejected":
        return cls(Refusal(exc.kind), exc.message)

    @classmethod
    def too_large(cls) -> "UploadRejected":
        return cls(Refusal.TOO_LARGE, f"The file is larger than the {settings.GLOWWORM_MAX_UPLOAD_MB} MB limit.")


def max_upload_bytes() -> int:
    return settings.GLOWWORM_MAX_UPLOAD_MB * 1024 * 1024


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Writes every upload to disk as it arrives and skips a file the moment it passes the limit.

    Skipped files are named in ``request.oversized_uploads`` so the view can answer 413.
    """

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.file.close()  # deletes the temporary file
            oversized = getattr(self.request, "oversized_uploads", [])
            oversized.append(self.file_name)
            self.request.oversized_uploads = oversized
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)


class RejectOversizedApiUpload:
    """ASGI middleware: answer 413 before reading the body when a one-file API upload declares a size
    over the limit (the multipart parser also enforces it while streaming, for bodies that do not)."""

    paths = ("/api/images/",)
    envelope = 64 * 1024  # multipart boundaries and headers around the one file

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length and length.isdigit() and int(length) > max_upload_bytes() + self.envelope:
                refusal = UploadRejected.too_large()
                body = json.dumps({"error": refusal.message}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": refusal.status,
                        "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
