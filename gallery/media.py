"""Answering with stored files, once a view has decided the caller may have them."""

from __future__ import annotations

from django.http import FileResponse, Http404

from gallery import storage
from gallery.files import clean_file_name
from gallery.models import Photo
from processing import formats


def variant_response(relative: str) -> FileResponse:
    """A rendered variant, inline. Variant names change on every render, so a name's content never changes.

    The name is resolved first and must then lie under variants/: `..`, encoded dots, symlinks out of the folder
    and names the file system refuses all answer 404."""
    try:
        handle = open(storage.media_path(relative, under="variants"), "rb")
    except (ValueError, OSError):
        raise Http404() from None
    response = FileResponse(handle, content_type=formats.mime_type_of(relative))
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


def original_response(photo: Photo) -> FileResponse:
    """The uploaded file as it came, always as an attachment (nosniff comes from SecurityMiddleware)."""
    try:
        handle = open(storage.media_path(photo.original), "rb")
    except (ValueError, FileNotFoundError):
        raise Http404("The original file is missing.") from None
    name = clean_file_name(photo.original_name) or f"photo-{photo.pk}.{formats.extension(photo.format)}"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=formats.mime_type(photo.format))
