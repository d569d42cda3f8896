"""A full-resolution copy of an original without its metadata (no EXIF, GPS, XMP, IPTC, comments or maker notes),
for downloads through a share link. Pure: a file in, a file out; no ORM, settings or Redis.

Losslessly where the format allows:
- JPEG (and MPO, whose first picture every viewer shows): the compressed data is copied segment by segment, only
  the picture's own segments kept (JFIF, quantisation and Huffman tables, frame and scan, Adobe's colour transform,
  the ICC profile). The way the photo is shown (its EXIF orientation and the user's extra rotation) goes back in as
  a minimal EXIF block holding that one tag.
- PNG, TIFF, GIF: decoded and written again in the same lossless format, turned upright, ICC profile kept.
- WebP: the RIFF chunks are copied without EXIF and XMP; when the photo must be turned, it is encoded again
  (losslessly if it was lossless).
- HEIC and AVIF, whose metadata sits in item boxes that cannot be cut out without rewriting the container: encoded
  again as a JPEG at quality 95 with full-resolution colour, upright, ICC profile kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageSequence

from processing import formats, imaging

# Orientation values whose transform equals "orientation o, then the user's clockwise rotation r".
_ORIENTATIONS = (1, 2, 3, 4, 5, 6, 7, 8)


@dataclass(frozen=True)
class Stripped:
    format: str  # Pillow format name of what was written

    @property
    def extension(self) -> str:
        return formats.extension(self.format)

    @property
    def mime(self) -> str:
        return formats.mime_type(self.format)


def _bare(image: Image.Image) -> Image.Image:
    """The pixels alone: Pillow's encoders write some of `info` (comments, EXIF) unless told otherwise."""
    image.info = {}
    return image


def _upright(image: Image.Image, orientation: int, rotation: int) -> Image.Image:
    if orientation in imaging.ORIENTATION_TRANSPOSE:
        image = image.transpose(imaging.ORIENTATION_TRANSPOSE[orientation])
    if imaging.ROTATE_CLOCKWISE.get(rotation):
        image = image.transpose(imaging.ROTATE_CLOCKWISE[rotation])
    return image


def combined_orientation(orientation: int, rotation: int) -> int:
    """The one EXIF orientation that shows stored pixels as orientation `orientation` followed by a clockwise
    `rotation` does. Found by trying all eight on a small asymmetric image."""
    probe = Image.frombytes("L", (3, 2), bytes(range(6)))
    wanted = _upright(probe, orientation, rotation)
    for candidate in _ORIENTATIONS:
        shown = _upright(probe, candidate, 0)
        if shown.size == wanted.size and shown.tobytes() == wanted.tobytes():
            return candidate
    raise AssertionError("the eight orientations cover every quarter turn and flip")


def orientation_exif(orientation: int) -> bytes:
    """A little-endian TIFF block with a single IFD entry: Orientation (0x0112, SHORT, 1 value)."""
    entry = struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 0)


def strip(source: str | Path, pillow_format: str, rotation: int, out: BinaryIO, *, max_pixels: int) -> Stripped:
    """Write the copy of source (an accepted original of this Pillow format) to out; returns what was written."""
    with imaging.open_image(source, max_pixels) as image:
        orientation = imaging.orientation_of(image)
        if pillow_format in ("JPEG", "MPO"):
            _strip_jpeg(Path(source), combined_orientation(orientation, rotation), out)
            return Stripped("JPEG")
        if pillow_format == "WEBP":
            turn = combined_orientation(orientation, rotation)
            if turn == 1:
                _strip_webp(Path(source), out)
            else:
                lossless = _webp_is_lossless(Path(source))
                _save_frames(
                    image, orientation, rotation, out, "WEBP", lossless=lossless, quality=100 if lossless else 95
                )
            return Stripped("WEBP")
        if pillow_format in ("PNG", "TIFF", "GIF"):
            options = {"compression": "tiff_deflate"} if pillow_format == "TIFF" else {}
            _save_frames(image, orientation, rotation, out, pillow_format, **options)
            return Stripped(pillow_format)
        image.seek(0)
        icc = image.info.get("icc_profile")
        upright = _bare(_upright(image, orientation, rotation))
        if upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=95, subsampling=0, optimize=True, **({"icc_profile": icc} if icc else {}))
        return Stripped("JPEG")


def _save_frames(image: Image.Image, orientation: int, rotation: int, out: BinaryIO, fmt: str, **options) -> None:
    """Every frame, upright, with the ICC profile and animation timing and nothing else of the original's info."""
    icc = image.info.get("icc_profile")
    frames = [_bare(_upright(frame.copy(), orientation, rotation)) for frame in ImageSequence.Iterator(image)]
    if icc:
        options["icc_profile"] = icc
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:])
        for key in ("duration", "loop", "disposal", "blend"):
            if key in image.info:
                options[key] = image.info[key]
    if fmt == "GIF" and "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    frames[0].save(out, fmt, **options)


# --- JPEG ----------------------------------------------------------------------------------------------------------

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP2, _APP14 = 0xE0, 0xE2, 0xEE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and the restart markers carry no length


def _keep_segment(marker: int, payload: bytes) -> bool:
    if marker == _APP0:
        return payload.startswith((b"JFIF\x00", b"JFXX\x00"))
    if marker == _APP2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == _APP14:
        return payload.startswith(b"Adobe")  # says whether the channels are RGB, YCbCr or YCCK
    if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # every other APPn (EXIF, XMP, IPTC, MPF, maker notes), COM
        return False
    return True


def _strip_jpeg(source: Path, orientation: int, out: BinaryIO) -> None:
    data = source.read_bytes()
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG stream")
    out.write(b"\xff\xd8")
    wrote_orientation = orientation == 1
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            raise ValueError(f"expected a marker at byte {position}")
        while position < len(data) and data[position] == 0xFF:  # fill bytes
            position += 1
        marker = data[position]
        position += 1
        if marker == _EOI:
            break  # an MPO's further pictures follow the first's end: left out
        if marker in _STANDALONE or marker == _SOI:
            out.write(bytes((0xFF, marker)))
            continue
        (length,) = struct.unpack(">H", data[position : position + 2])
        payload = data[position + 2 : position + length]
        segment_end = position + length
        if not wrote_orientation and not (marker == _APP0 and _keep_segment(marker, payload)):
            block = b"Exif\x00\x00" + orientation_exif(orientation)
            out.write(b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block)
            wrote_orientation = True
        if _keep_segment(marker, payload):
            out.write(data[position - 2 : segment_end])
        position = segment_end
        if marker == _SOS:
            scan_end = _end_of_scan(data, position)
            out.write(data[position:scan_end])
            position = scan_end
    out.write(b"\xff\xd9")


def _end_of_scan(data: bytes, position: int) -> int:
    """Where the entropy-coded data after a scan header ends: at the first marker that is not a stuffed 0xFF00 or
    a restart marker."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position


# --- WebP ----------------------------------------------------------------------------------------------------------

_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _webp_chunks(data: bytes):
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    position = 12
    while position + 8 <= len(data):
        fourcc = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        yield fourcc, data[position + 8 : position + 8 + size]
        position += 8 + size + (size & 1)


def _webp_is_lossless(source: Path) -> bool:
    return any(fourcc == b"VP8L" for fourcc, _ in _webp_chunks(source.read_bytes()))


def _strip_webp(source: Path, out: BinaryIO) -> None:
    body = bytearray(b"WEBP")
    for fourcc, payload in _webp_chunks(source.read_bytes()):
        if fourcc in (b"EXIF", b"XMP "):
            continue
        if fourcc == b"VP8X":
            payload = bytes((payload[0] & ~(_VP8X_EXIF | _VP8X_XMP),)) + payload[1:]
        body += fourcc + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
    out.write(b"RIFF" + struct.pack("<I", len(body)) + bytes(body))
