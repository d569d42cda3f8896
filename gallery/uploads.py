"""Upload handling: stream to a temporary file in chunks, stop a file as soon as it is too large, and the kinds of
refusal with the one table that maps them to HTTP statuses.

Also the caps on request bodies, which Daphne enforces before it reads a body (glowworm/daphne_tuning.py): the
upload paths (settings.GLOWWORM_UPLOAD_PATHS) take their files from a logged-in caller, every other request
GLOWWORM_MAX_BODY_KB.
"""

import hashlib
import json
from enum import StrEnum
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http.cookie import parse_cookie

from gallery.models import ApiToken
from processing.imaging import ImageRejected

# Multipart boundaries, part headers (a file name may take up to 1 KB) and the few form fields around the files.
UPLOAD_ENVELOPE = 64 * 1024


class Refusal(StrEnum):
    EMPTY = "empty"
    NO_FILE = "no-file"
    TOO_LARGE = "too-large"  # bytes over GLOWWORM_MAX_UPLOAD_MB
    # Refused by Daphne before the body is read (glowworm/daphne_tuning.py):
    BODY_TOO_LARGE = "body-too-large"  # a request body over GLOWWORM_MAX_BODY_KB
    NOT_LOGGED_IN = "not-logged-in"  # an upload without a valid session or API token
    CHECK_FAILED = "check-failed"  # the session or token could not be looked up (database down)
    STORAGE_UNAVAILABLE = "storage-unavailable"  # the bucket did not take the file (gallery/storage.py)
    # As processing.imaging.Rejection names them:
    NOT_ACCEPTED = "not-accepted"
    TOO_MANY_PIXELS = "too-many-pixels"
    DAMAGED = "damaged"


HTTP_STATUS = {
    Refusal.EMPTY: 400,
    Refusal.NO_FILE: 400,
    Refusal.TOO_LARGE: 413,
    Refusal.BODY_TOO_LARGE: 413,
    Refusal.NOT_LOGGED_IN: 401,
    Refusal.CHECK_FAILED: 503,
    Refusal.STORAGE_UNAVAILABLE: 503,
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
    """Writes every upload to disk as it arrives, hashing it on the way, and skips a file the moment it passes the
    limit.

    The finished file carries ``sha256`` (hex), so ingesting it never reads it again to hash it. Skipped files are
    named in ``request.oversized_uploads`` so the view can answer 413.
    """

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.digest = hashlib.sha256()

    def file_complete(self, file_size):
        file = super().file_complete(file_size)
        file.sha256 = self.digest.hexdigest()
        return file

    def receive_data_chunk(self, raw_data, start):
        self.digest.update(raw_data)
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.file.close()  # deletes the temporary file
            oversized = getattr(self.request, "oversized_uploads", [])
            oversized.append(self.file_name)
            self.request.oversized_uploads = oversized
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)


def is_upload_path(path: str) -> bool:
    return path in settings.GLOWWORM_UPLOAD_PATHS


def body_cap(path: str, *, may_upload: bool) -> int:
    """The most bytes a request body to path may have: an upload path's files for a logged-in caller, else
    GLOWWORM_MAX_BODY_KB."""
    files = settings.GLOWWORM_UPLOAD_PATHS.get(path) if may_upload else None
    if files:
        return files * max_upload_bytes() + UPLOAD_ENVELOPE
    return settings.GLOWWORM_MAX_BODY_KB * 1024


def body_too_large(path: str, *, may_upload: bool) -> UploadRejected:
    """The refusal of a body over body_cap(path, may_upload=may_upload)."""
    files = settings.GLOWWORM_UPLOAD_PATHS.get(path) if may_upload else None
    if files == 1:
        return UploadRejected.too_large()
    if files:
        return UploadRejected(
            Refusal.TOO_LARGE,
            f"Too much in one request: send at most {files} files of up to {settings.GLOWWORM_MAX_UPLOAD_MB} MB.",
        )
    kb = settings.GLOWWORM_MAX_BODY_KB
    limit = f"{kb // 1024} MB" if kb % 1024 == 0 else f"{kb} KB"
    return UploadRejected(Refusal.BODY_TOO_LARGE, f"The request is larger than the {limit} limit.")


def not_logged_in() -> UploadRejected:
    return UploadRejected(Refusal.NOT_LOGGED_IN, "Log in or send a valid API token (Authorization: Bearer ...).")


def storage_unavailable() -> UploadRejected:
    return UploadRejected(
        Refusal.STORAGE_UNAVAILABLE, "The photo store cannot be reached just now: nothing was saved. Try again shortly."
    )


def check_failed() -> UploadRejected:
    return UploadRejected(Refusal.CHECK_FAILED, "Your log-in could not be checked just now: try again shortly.")


def may_upload(*, authorization: str | None, cookie: str | None) -> bool:
    """Whether the caller is an active user, by the Bearer token or else the session, as gallery.api.authenticate
    decides (CSRF is checked later, with the body). Daphne asks this from the raw headers, before it reads the body."""
    if ApiToken.bearer(authorization):
        return ApiToken.from_authorization(authorization) is not None
    key = parse_cookie(cookie or "").get(settings.SESSION_COOKIE_NAME)
    if not key:
        return False
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = get_user(SimpleNamespace(session=session))  # checks the session's password hash, as every request does
    return user.is_authenticated and user.is_active


def refusal_response(path: str, refusal: UploadRejected) -> tuple[int, str, bytes]:
    """Status, content type and body for a request refused before its body was read: `{"error": ...}` for the API,
    as gallery.api answers, a line of text elsewhere."""
    if path.startswith("/api/"):
        return refusal.status, "application/json", json.dumps({"error": refusal.message}).encode()
    return refusal.status, "text/plain; charset=utf-8", refusal.message.encode() + b"\n"
