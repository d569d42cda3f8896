"""Upload handling: stream to a temporary file in chunks, stop a file as soon as it is too large."""

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler


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
                body = b'{"error": "The file is larger than the %d MB limit."}' % settings.GLOWWORM_MAX_UPLOAD_MB
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
