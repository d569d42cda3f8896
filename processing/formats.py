"""File formats by Pillow name: the extension a stored file gets and the MIME type it is served with. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileFormat:
    extension: str
    mime: str


FORMATS = {
    "JPEG": FileFormat("jpg", "image/jpeg"),
    "MPO": FileFormat("mpo", "image/jpeg"),  # a JPEG with extra frames: every viewer shows its first
    "PNG": FileFormat("png", "image/png"),
    "GIF": FileFormat("gif", "image/gif"),
    "WEBP": FileFormat("webp", "image/webp"),
    "AVIF": FileFormat("avif", "image/avif"),
    "HEIF": FileFormat("heic", "image/heic"),
    "TIFF": FileFormat("tif", "image/tiff"),
}
UNKNOWN = FileFormat("bin", "application/octet-stream")
_BY_EXTENSION = {file_format.extension: file_format for file_format in FORMATS.values()}


def extension(pillow_format: str) -> str:
    return FORMATS.get(pillow_format, UNKNOWN).extension


def mime_type(pillow_format: str) -> str:
    return FORMATS.get(pillow_format, UNKNOWN).mime


def mime_type_of(file_name: str) -> str:
    """The MIME type of a file we stored, from the extension we gave it."""
    return _BY_EXTENSION.get(file_name.rsplit(".", 1)[-1].lower(), UNKNOWN).mime
