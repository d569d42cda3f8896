"""Answering with stored files, once a view has decided the caller may have them.

Django streams the file itself by default. Behind nginx (deploy/nginx/), GLOWWORM_MEDIA_ACCEL_PREFIX makes the answer
an empty response whose X-Accel-Redirect names the file under that prefix: nginx then sends it from an internal
location (one nobody can request directly) mapped to MEDIA_ROOT, with sendfile, ranges and conditional requests, and
no Daphne thread busy copying bytes. Access is decided before either: the views check it, and the name is resolved
here, so both paths answer exactly the same requests.

Under ASGI, Django reads a FileResponse's whole file into memory before sending any of it (a synchronous iterator):
a 150 MB original raised Daphne's peak RSS from 116 to 401 MB; through nginx it stayed at 111 MB.
"""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header

from gallery import storage
from gallery.files import clean_file_name
from gallery.models import Photo
from processing import formats

# Variant names change on every render, so a name's content never changes.
VARIANT_CACHE_CONTROL = "private, max-age=31536000, immutable"


def variant_response(relative: str) -> HttpResponse | FileResponse:
    """A rendered variant, inline.

    The name is resolved first and must then lie under variants/: `..`, encoded dots, symlinks out of the folder
    and names the file system refuses all answer 404."""
    try:
        path = storage.media_path(relative, under="variants")
    except ValueError:
        raise Http404() from None
    content_type = formats.mime_type_of(relative)
    if settings.GLOWWORM_MEDIA_ACCEL_PREFIX:
        response = _accel_redirect(path, content_type)
    else:
        try:
            response = FileResponse(open(path, "rb"), content_type=content_type)
        except OSError:  # missing, a directory, or a name too long to open
            raise Http404() from None
    response["Cache-Control"] = VARIANT_CACHE_CONTROL
    return response


def original_response(photo: Photo) -> HttpResponse | FileResponse:
    """The uploaded file as it came, always as an attachment, never sniffed into something a browser would run."""
    try:
        path = storage.media_path(photo.original)
    except ValueError:
        raise Http404("The original file is missing.") from None
    name = clean_file_name(photo.original_name) or f"photo-{photo.pk}.{formats.extension(photo.format)}"
    content_type = formats.mime_type(photo.format)
    if settings.GLOWWORM_MEDIA_ACCEL_PREFIX:
        response = _accel_redirect(path, content_type, missing="The original file is missing.")
        response["Content-Disposition"] = content_disposition_header(True, name)
    else:
        try:
            response = FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type=content_type)
        except OSError:
            raise Http404("The original file is missing.") from None
    response["X-Content-Type-Options"] = "nosniff"  # SecurityMiddleware's too; here so it never depends on it
    return response


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
