"""Answering with stored files, once a view has decided the caller may have them.

Files under MEDIA_ROOT: Django streams the file itself by default. Behind nginx (deploy/nginx/),
GLOWWORM_MEDIA_ACCEL_PREFIX makes the answer an empty response whose X-Accel-Redirect names the file under that prefix:
nginx then sends it from an internal location (one nobody can request directly) mapped to MEDIA_ROOT, with sendfile,
ranges and conditional requests, and no Daphne thread busy copying bytes.

Files in the bucket (gallery/storage.py): a redirect to a presigned URL for exactly that object, made once per
GLOWWORM_MEDIA_URL_WINDOW so the browser's cache keeps working (originals carry their attachment disposition in the
signature); with GLOWWORM_MEDIA_REDIRECT off the app streams the object itself.

Access is decided before any of these: the views check it (an anonymous caller gets the login redirect, never one
to storage), and the name is checked here, so every path answers exactly the same requests.

Under ASGI, Django reads a FileResponse's whole file into memory before sending any of it (a synchronous iterator):
a 150 MB original raised Daphne's peak RSS from 116 to 401 MB; through nginx it stayed at 111 MB. Streams from the
bucket are fed from a thread instead (`streaming_content`).
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from gallery import storage
from gallery.files import clean_file_name
from gallery.models import Photo, Variant
from processing import formats

VARIANT_CACHE_CONTROL = storage.VARIANT_CACHE_CONTROL
ORIGINAL_MISSING = "The original file is missing."


def variant_location(relative: str) -> str:
    """Where the variant file of this name lives, by its row. A name no row holds any more (replaced, and waiting
    out GLOWWORM_REPLACED_FILE_GRACE, or deleted) is looked for where new files go: 404 when it is not there, so no
    one is sent to the bucket for nothing. Without a bucket everything is local: no query."""
    if not storage.bucket_configured():
        return storage.LOCAL
    location = Variant.objects.filter(file=relative).values_list("location", flat=True).first()
    if location:
        return location
    location = storage.default_location()
    try:
        if location == storage.S3 and not storage.exists(relative, location=location):
            raise Http404()
    except storage.StorageUnavailable:
        raise Http404() from None
    return location


def variant_response(relative: str, location: str | None = None, request=None) -> HttpResponse:
    """A rendered variant, inline.

    The name must lie under variants/: `..`, encoded dots, symlinks out of the folder and names the file system
    refuses all answer 404."""
    location = location or variant_location(relative)
    content_type = formats.mime_type_of(relative)
    if location == storage.S3:
        try:
            storage.check_name(relative, under="variants")
        except ValueError:
            raise Http404() from None
        response = _from_bucket(relative, content_type=content_type, request=request)
        if response.status_code == 200:
            response["Cache-Control"] = VARIANT_CACHE_CONTROL
        return response
    try:
        path = storage.media_path(relative, under="variants")
    except ValueError:
        raise Http404() from None
    if settings.GLOWWORM_MEDIA_ACCEL_PREFIX:
        response = _accel_redirect(path, content_type)
    else:
        try:
            response = FileResponse(open(path, "rb"), content_type=content_type)
        except OSError:  # missing, a directory, or a name too long to open
            raise Http404() from None
    response["Cache-Control"] = VARIANT_CACHE_CONTROL
    return response


def original_response(photo: Photo, request=None) -> HttpResponse:
    """The uploaded file as it came, always as an attachment, never sniffed into something a browser would run."""
    name = clean_file_name(photo.original_name) or f"photo-{photo.pk}.{formats.extension(photo.format)}"
    content_type = formats.mime_type(photo.format)
    disposition = content_disposition_header(True, name)
    if photo.original_location == storage.S3:
        try:
            storage.check_name(photo.original, under="originals")
        except ValueError:
            raise Http404(ORIGINAL_MISSING) from None
        response = _from_bucket(
            photo.original,
            content_type=content_type,
            disposition=disposition,
            request=request,
            missing=ORIGINAL_MISSING,
        )
    else:
        try:
            path = storage.media_path(photo.original)
        except ValueError:
            raise Http404(ORIGINAL_MISSING) from None
        if settings.GLOWWORM_MEDIA_ACCEL_PREFIX:
            response = _accel_redirect(path, content_type, missing=ORIGINAL_MISSING)
            response["Content-Disposition"] = disposition
        else:
            try:
                response = FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type=content_type)
            except OSError:
                raise Http404(ORIGINAL_MISSING) from None
    response["X-Content-Type-Options"] = "nosniff"  # SecurityMiddleware's too; here so it never depends on it
    return response


def _from_bucket(relative: str, *, content_type: str, disposition: str = "", request=None, missing: str = ""):
    """A redirect to a presigned URL for the object, or (GLOWWORM_MEDIA_REDIRECT off) the object streamed."""
    if settings.GLOWWORM_MEDIA_REDIRECT:
        url, seconds_left = storage.presigned_url(relative, attachment_name=disposition, content_type=content_type)
        response = HttpResponseRedirect(url)
        # The browser may reuse the redirect until the URL's window ends, and then its cached copy of the object.
        response["Cache-Control"] = f"private, max-age={seconds_left}"
        return response
    try:
        body = storage.open_file(relative, location=storage.S3)
    except FileNotFoundError:
        raise Http404(missing) from None
    except storage.StorageUnavailable:
        return unavailable()
    response = StreamingHttpResponse(streaming_content(request, _chunks(body)), content_type=content_type)
    if disposition:
        response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    return response


def unavailable() -> HttpResponse:
    response = HttpResponse(
        "The photo store cannot be reached just now: try again shortly.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "30"
    return response


def _chunks(body, size: int = 256 * 1024) -> Iterator[bytes]:
    try:
        yield from iter(lambda: body.read(size), b"")
    finally:
        body.close()


def streaming_content(request, chunks: Iterator[bytes]):
    """Chunks for a StreamingHttpResponse: under ASGI a plain generator would be read to the end into memory first,
    so it is fed from a thread instead."""
    if isinstance(request, ASGIRequest):
        return _async_chunks(chunks)
    return chunks


async def _async_chunks(chunks):
    next_chunk = sync_to_async(lambda: next(chunks, None), thread_sensitive=False)
    while (chunk := await next_chunk()) is not None:
        if chunk:
            yield chunk


def _accel_redirect(path: Path, content_type: str, missing: str = "") -> HttpResponse:
    """Hands a resolved file under MEDIA_ROOT to nginx. The name nginx gets is the resolved one, so a symlink inside
    the folder cannot make nginx open something other than what was checked."""
    try:
        is_file = stat.S_ISREG(path.stat().st_mode)
    except OSError:  # missing, or a name too long to look at
        is_file = False
    if not is_file:
        raise Http404(missing)
    relative = path.relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()
    response = HttpResponse(content_type=content_type)
    # nginx decodes the URI it is given: quoting keeps a `?`, `%` or space in a name from becoming something else.
    response["X-Accel-Redirect"] = settings.GLOWWORM_MEDIA_ACCEL_PREFIX + quote(relative)
    return response
