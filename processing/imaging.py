"""Open, check and render photos. Pure: a file in, images out; no ORM, settings or Redis.

The render pipeline (docs/rendering.md): decode once, at the smallest scale that still serves the largest output
(JPEG DCT scaling via draft(), Image.reduce() for formats that only decode at full size); start each stage
(thumbnails, then variants) from that decode and derive every smaller output from the smallest finished one that
is at least as large; convert to sRGB, flatten alpha and turn upright only the first image of each stage; encode
each distinct (size, format) once.
"""

from __future__ import annotations

import base64
import functools
import io
import struct
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import pillow_heif
from PIL import Image, ImageCms, ImageFile
from PIL.ExifTags import GPS, IFD, Base

from processing.specs import THUMBNAIL, Spec

pillow_heif.register_heif_opener()
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.init()  # load every plugin now, so the allow-list below can name MPO and TIFF

# Pillow openers we try; anything else is rejected before decoding. (MPO comes through the JPEG opener.)
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF", "TIFF")
ACCEPTED_DESCRIPTION = "JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF, MPO or TIFF"

# Transparent areas become this mid grey: neutral on both the light and the dark theme.
BACKGROUND = (128, 128, 128)
# Integer box-reduce only down to this multiple of the target, then LANCZOS: as sharp as LANCZOS from full size
# (SSIM >= 0.99 against it, see docs/rendering.md) at a fraction of the cost.
REDUCING_GAP = 2.0
PLACEHOLDER_EDGE = 24  # px, long edge of the blurred data: URI (about 300-600 bytes as WebP)

# EXIF orientation -> the transpose that makes the stored pixels upright (as ImageOps.exif_transpose does).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ROTATE_CLOCKWISE = {
    0: None,
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError)


class Rejection(StrEnum):
    NOT_ACCEPTED = "not-accepted"  # not an image, or a format we do not open
    TOO_MANY_PIXELS = "too-many-pixels"
    DAMAGED = "damaged"


class ImageRejected(Exception):
    """The file is not an image we accept, or cannot be rendered. The kind is for programs (HTTP statuses are chosen
    by kind, never by the wording); the message is for a person."""

    def __init__(self, kind: Rejection, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Probe:
    format: str
    width: int  # upright
    height: int


@dataclass
class Metadata:
    # Field names match gallery.models.Photo. taken_at is aware when the camera recorded its UTC offset,
    # otherwise naive wall-clock time (we do not guess the zone).
    taken_at: datetime | None = None
    taken_at_offset: str = ""
    camera_make: str = ""
    camera_model: str = ""
    lens: str = ""
    focal_length: float | None = None
    aperture: float | None = None
    exposure_time: str = ""
    iso: int | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None


@dataclass
class Output:
    spec: Spec
    data: bytes
    width: int
    height: int
    # The pixels that were encoded (upright sRGB), only when render(..., keep_pixels=True): for tests and the bench.
    pixels: Image.Image | None = field(default=None, repr=False, compare=False)


@dataclass
class Analysis:
    placeholder: str = ""  # data:image/webp;base64,... under 1 KB
    phash: str = ""  # 64-bit difference hash, 16 hex digits
    detail: float = 0.0  # what the hash rests on (difference_hash)


# --- opening and checking ------------------------------------------------------------------------------------


def _too_large(width: int, height: int, max_pixels: int) -> ImageRejected:
    return ImageRejected(
        Rejection.TOO_MANY_PIXELS,
        f"The image is too large: {width} x {height} pixels is more than {max_pixels / 1e6:g} million pixels.",
    )


def _damaged(exc: BaseException | str) -> ImageRejected:
    return ImageRejected(Rejection.DAMAGED, f"The image is damaged or cut short and cannot be read ({exc}).")


def _check_isobmff(path: Path) -> None:
    """HEIF and AVIF are ISO-BMFF files: walk the top-level boxes and refuse a file that ends inside one.

    libheif happily decodes the primary item of a file cut short as long as that item's bytes are present, so a
    truncated upload (other items, thumbnails, the declared mdat) would otherwise be stored as a healthy photo.
    """
    size = path.stat().st_size
    with path.open("rb") as fp:
        offset = 0
        while offset < size:
            fp.seek(offset)
            header = fp.read(16)
            if len(header) < 8:
                raise _damaged("the file ends inside a box header")
            box_size, box_type = struct.unpack(">I4s", header[:8])
            if box_size == 1:
                if len(header) < 16:
                    raise _damaged("the file ends inside a box header")
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - offset  # "to the end of the file"
            if box_size < 8:
                raise _damaged(f"box {box_type!r} has an impossible size")
            if offset + box_size > size:
                missing = offset + box_size - size
                raise _damaged(f"the {box_type.decode('latin-1')!r} box is missing its last {missing} bytes")
            offset += box_size


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def _looks_like_accepted_format(path: Path) -> bool:
    """The file starts like one of our formats, so a failure to open it means damage, not a wrong format."""
    with path.open("rb") as fp:
        head = fp.read(16)
    if head.startswith(_SIGNATURES):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _check_png_chunks(path: Path) -> None:
    """Walk the PNG chunks up to IEND, checking each one's CRC; refuse a file cut short or corrupted.

    Pillow's verify() does the same in Python-sized reads and took 0.7 s for a 20 MP PNG; zlib.crc32 over 1 MB
    blocks takes a few tens of milliseconds.
    """
    size = path.stat().st_size
    with path.open("rb") as fp:
        fp.seek(8)  # signature
        offset = 8
        while True:
            header = fp.read(8)
            if len(header) < 8:
                raise _damaged("the file ends before its IEND chunk")
            length, chunk_type = struct.unpack(">I4s", header)
            name = chunk_type.decode("latin-1")
            if offset + 12 + length > size:
                raise _damaged(f"the {name!r} chunk is missing {offset + 12 + length - size} bytes")
            crc = zlib.crc32(chunk_type)
            remaining = length
            while remaining:
                block = fp.read(min(remaining, 1 << 20))
                crc = zlib.crc32(block, crc)
                remaining -= len(block)
            if struct.unpack(">I", fp.read(4))[0] != crc:
                raise _damaged(f"the {name!r} chunk fails its checksum")
            offset += 12 + length
            if chunk_type == b"IEND":
                return


def open_image(path: str | Path, max_pixels: int) -> Image.Image:
    # Pillow refuses images over twice this; our own, exact limit is checked below.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path, formats=ALLOWED_FORMATS)
        except Image.DecompressionBombError:
            raise ImageRejected(
                Rejection.TOO_MANY_PIXELS, f"The image is too large: more than {max_pixels / 1e6:g} million pixels."
            ) from None
        except Image.UnidentifiedImageError:
            if _looks_like_accepted_format(Path(path)):
                raise _damaged("its header is incomplete or invalid") from None
            raise ImageRejected(
                Rejection.NOT_ACCEPTED, f"This is not an image we accept. Upload {ACCEPTED_DESCRIPTION}."
            ) from None
        except _DECODE_ERRORS as exc:
            raise _damaged(exc) from None
    try:
        if image.width < 1 or image.height < 1:
            raise _damaged("it has no pixels")
        if image.width * image.height > max_pixels:
            raise _too_large(image.width, image.height, max_pixels)
        if image.format in ("HEIF", "AVIF"):
            _check_isobmff(Path(path))
    except BaseException:
        image.close()
        raise
    return image


def orientation_of(image: Image.Image) -> int:
    # pillow-heif applies irot/imir itself and resets this to 1; Pillow's AVIF plugin turns irot/imir into it.
    if image.format == "TIFF":
        return 1  # Pillow's TIFF plugin already reports the upright size and turns the pixels on load
    try:
        value = image.getexif().get(Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1
    return value if value in ORIENTATION_TRANSPOSE else 1


def _upright(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def probe(path: str | Path, *, max_pixels: int) -> Probe:
    """Read the header (plus cheap structural checks) and reject what we cannot render.

    JPEG gets a 1/8-scale decode (the entropy data is read in full, so a file cut short is caught for the price of
    a thumbnail); PNG and HEIF/AVIF their chunk or box structure, read from the headers only.
    """
    image = open_image(path, max_pixels)
    try:
        fmt = image.format
        if fmt == "PNG" and "exif" not in image.info:
            # Pillow's PNG getexif() decodes the whole image to look for an eXIf chunk after the pixel data; writers
            # put it before them, and the job records the size from the full render anyway.
            orientation = 1
        else:
            orientation = orientation_of(image)
        width, height = _upright(image.size, orientation)
        try:
            if fmt in ("JPEG", "MPO"):
                image.draft(None, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
            elif fmt == "PNG":
                _check_png_chunks(Path(path))
        except _DECODE_ERRORS as exc:
            raise _damaged(exc) from None
        return Probe(format=fmt, width=width, height=height)
    finally:
        image.close()


# --- metadata -------------------------------------------------------------------------------------------------


def _rational(value) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return result if result == result and result not in (float("inf"), float("-inf")) else None


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value or "").replace("\x00", "").strip()


def _gps_coordinate(values, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(v) for v in values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if _text(ref).upper() in ("S", "W"):
        result = -result
    return round(result, 7)


def _taken_at(exif_ifd: dict, base: dict) -> tuple[datetime | None, str]:
    # DateTimeOriginal with its own offset and sub-seconds, else DateTimeDigitized, else the file's DateTime.
    for date_tag, offset_tag, subsec_tag, ifd in (
        (Base.DateTimeOriginal, Base.OffsetTimeOriginal, Base.SubsecTimeOriginal, exif_ifd),
        (Base.DateTimeDigitized, Base.OffsetTimeDigitized, Base.SubsecTimeDigitized, exif_ifd),
        (Base.DateTime, Base.OffsetTime, Base.SubsecTime, base),
    ):
        raw = _text(ifd.get(date_tag))
        if not raw:
            continue
        try:
            naive = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue
        subsec = _text(exif_ifd.get(subsec_tag))
        if subsec.isdigit():
            naive = naive.replace(microsecond=int((subsec + "000000")[:6]))
        offset = _text(exif_ifd.get(offset_tag))
        if (
            len(offset) == 6
            and offset[0] in "+-"
            and offset[3] == ":"
            and offset[1:3].isdigit()
            and offset[4:].isdigit()
        ):
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            if delta <= timedelta(hours=14):
                return naive.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta)), offset
        return naive, ""
    return None, ""


def metadata_from_image(image: Image.Image) -> Metadata:
    try:
        exif = image.getexif()
        base = dict(exif)
        exif_ifd = dict(exif.get_ifd(IFD.Exif))
        gps = dict(exif.get_ifd(IFD.GPSInfo))
    except _DECODE_ERRORS:
        return Metadata()  # unreadable EXIF is not a reason to refuse the photo
    taken_at, offset = _taken_at(exif_ifd, base)
    meta = Metadata(
        taken_at=taken_at,
        taken_at_offset=offset,
        camera_make=_text(base.get(Base.Make))[:100],
        camera_model=_text(base.get(Base.Model))[:100],
        lens=_text(exif_ifd.get(Base.LensModel))[:150],
        focal_length=_rational(exif_ifd.get(Base.FocalLength)),
        aperture=_rational(exif_ifd.get(Base.FNumber)),
    )
    exposure = _rational(exif_ifd.get(Base.ExposureTime))
    if exposure and 0 < exposure <= 3600:  # garbage rationals (0xFFFFFFFF/1) are common in broken EXIF
        meta.exposure_time = (f"1/{round(1 / exposure)}" if exposure < 1 else f"{exposure:g}")[:20]
    iso = exif_ifd.get(Base.ISOSpeedRatings)
    if isinstance(iso, (tuple, list)):
        iso = iso[0] if iso else None
    if isinstance(iso, int) and 0 < iso < 2**31:
        meta.iso = iso
    if gps:
        meta.gps_latitude = _gps_coordinate(gps.get(GPS.GPSLatitude), gps.get(GPS.GPSLatitudeRef))
        meta.gps_longitude = _gps_coordinate(gps.get(GPS.GPSLongitude), gps.get(GPS.GPSLongitudeRef))
        if meta.gps_latitude is not None and not -90 <= meta.gps_latitude <= 90:
            meta.gps_latitude = None
        if meta.gps_longitude is not None and not -180 <= meta.gps_longitude <= 180:
            meta.gps_longitude = None
    return meta


# What cameras and phones write into ImageDescription when nobody wrote anything: not a caption.
_CAMERA_DESCRIPTIONS = {
    "olympus digital camera",
    "sony dsc",
    "konica minolta digital camera",
    "minolta digital camera",
    "default",
    "image",
    "exif_jpeg_picture",
    "samsung camera pictures",
    "lg camera",
}


def caption_from_image(image: Image.Image) -> str:
    """The file's own caption, EXIF ImageDescription, or "" (none, unreadable, or a camera's stock text)."""
    try:
        text = _text(image.getexif().get(Base.ImageDescription))
    except _DECODE_ERRORS:
        return ""
    try:
        # Phones and editors write UTF-8 into this ASCII field; Pillow reads it as Latin-1.
        text = text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass  # Latin-1 it was
    return "" if text.casefold() in _CAMERA_DESCRIPTIONS else text


# --- pixels ---------------------------------------------------------------------------------------------------


def fit_inside(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with this aspect ratio that fits inside box; never larger than size (downscale only)."""
    width, height = size
    scale = min(box[0] / width, box[1] / height, 1.0)
    if scale >= 1.0:
        return size
    return max(1, min(box[0], round(width * scale))), max(1, min(box[1], round(height * scale)))


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
SRGB_PROFILE = _SRGB.tobytes()


@functools.lru_cache(maxsize=16)
def _transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached LittleCMS transform from an embedded profile to sRGB, or None if the profile is unusable."""
    out_mode = "RGBA" if mode in ("RGBA", "LA") else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(
            source, _SRGB, mode, out_mode, renderingIntent=ImageCms.Intent.PERCEPTUAL, flags=ImageCms.Flags.NONE
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring any decoded mode to one that resizes well and that _to_srgb understands: L, LA, RGB, RGBA or CMYK."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    if mode.startswith("I;16"):
        # 16-bit greyscale: keep the top 8 bits (convert("L") would clip everything above 255 to white).
        return image.convert("I").point(lambda value: value / 257).convert("L")
    if mode in ("I", "F"):
        low, high = image.getextrema()
        scale = 255 / (high - low) if high > low else 1
        return image.point(lambda value: (value - low) * scale).convert("L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in ("PA", "RGBa", "La"):
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # YCbCr, LAB, HSV, RGBX


@functools.lru_cache(maxsize=16)
def _is_srgb(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False
    return description.strip().lower().startswith("srgb")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to 8-bit sRGB RGB: LittleCMS for an embedded profile, then alpha flattened on BACKGROUND."""
    transform = _transform(icc, image.mode) if icc and not _is_srgb(icc) else None
    if transform is not None:
        try:
            image = ImageCms.applyTransform(image, transform)
        except ImageCms.PyCMSError:
            pass  # a profile for another colour space than the pixels (e.g. RGB profile on greyscale): ignore it
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode != "RGB":
        # Untagged CMYK: Pillow's (255-C)(255-K) formula is what browsers show for it (Adobe inverted CMYK is
        # already un-inverted by the JPEG plugin).
        return image.convert("RGB")
    return image


# A direct LANCZOS resize of a large image builds a temporary (source height x target width) image, 52 MB for
# 6000x4000 -> 3240x2160. Resizing in bands of output rows gives the same pixels up to rounding (the resampler
# reads outside the band's box, so there are no seams) with a temporary image a fraction of that size.
BAND_ROWS = 256
BAND_ABOVE_PIXELS = 8_000_000


def _downscale(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    factor = min(image.width / size[0], image.height / size[1])
    if (
        image.width * image.height < BAND_ABOVE_PIXELS
        or factor >= 2 * REDUCING_GAP  # reduce() runs first and the temporary image is small anyway
        or image.mode not in ("L", "RGB", "CMYK")  # alpha modes are premultiplied as a whole-image copy per call
    ):
        return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    result = Image.new(image.mode, size)
    scale = image.height / size[1]
    for top in range(0, size[1], BAND_ROWS):
        bottom = min(size[1], top + BAND_ROWS)
        box = (0, top * scale, image.width, bottom * scale)
        result.paste(image.resize((size[0], bottom - top), Image.Resampling.LANCZOS, box=box), (0, top))
    return result


def _encode(image: Image.Image, spec: Spec) -> bytes:
    """Encode with nothing but pixels and the sRGB tag: no EXIF, XMP, GPS or maker notes."""
    buffer = io.BytesIO()
    if spec.format == "JPEG":
        image.save(buffer, "JPEG", quality=spec.quality, optimize=True, icc_profile=SRGB_PROFILE)
    elif spec.format == "WEBP":
        # method 4 costs 4x method 0 for ~10% fewer bytes; worth it for the small grid images fetched by the
        # hundred, not for multi-megapixel display images fetched once per frame.
        method = 4 if image.width * image.height <= 1_000_000 else 2
        image.save(buffer, "WEBP", quality=spec.quality, method=method, icc_profile=SRGB_PROFILE)
    else:
        raise ValueError(f"unsupported output format {spec.format}")
    return buffer.getvalue()


def placeholder_data_uri(image: Image.Image) -> str:
    """A tiny WebP of the upright sRGB image; the page blurs it with CSS while the thumbnail loads."""
    tiny = image.copy()
    tiny.thumbnail((PLACEHOLDER_EDGE, PLACEHOLDER_EDGE), Image.Resampling.BOX)
    buffer = io.BytesIO()
    tiny.save(buffer, "WEBP", quality=50, method=6)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def difference_hash(image: Image.Image) -> tuple[str, float]:
    """64-bit dHash: is each pixel of a 9x8 grey image brighter than its right neighbour. 16 hex digits.

    With it, how much detail the hash rests on: the mean absolute difference between those neighbours (0-255). A
    flat colour, a near-uniform image, a vertical gradient or noise that averages out at 9x8 scores near 0 (their
    hashes are all alike: 300 unrelated images once shared one); photos score 15-30 (measured on tests/data), a
    300 px noise image 2.6.
    """
    small = image.convert("L").resize((9, 8), Image.Resampling.BOX)
    pixels = small.tobytes()
    bits = 0
    total = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            bits = (bits << 1) | (left > right)
            total += abs(left - right)
    return f"{bits:016x}", total / 64


class Source:
    """An opened photo: upright size, metadata, and renders of any specs. Use as a context manager.

    rotation: the user's extra clockwise quarter turns (Photo.rotation: 0, 90, 180 or 270), applied after the EXIF
    orientation to every output. width and height stay the EXIF-upright size, without that turn.
    """

    def __init__(self, path: str | Path, *, max_pixels: int, rotation: int = 0):
        if rotation not in ROTATE_CLOCKWISE:
            raise ValueError(f"rotation must be 0, 90, 180 or 270, not {rotation!r}")
        self.path = Path(path)
        self.max_pixels = max_pixels
        self.rotation = rotation
        self._image: Image.Image | None = open_image(path, max_pixels)
        try:
            self.format: str = self._image.format
            self.orientation = orientation_of(self._image)
            self.stored_size: tuple[int, int] = self._image.size
            self.width, self.height = _upright(self.stored_size, self.orientation)
            self.metadata = metadata_from_image(self._image)
            self.icc: bytes | None = self._image.info.get("icc_profile") or None
        except BaseException:
            self.close()
            raise
        self.analysis = Analysis()
        self.decoded_size: tuple[int, int] | None = None  # what render() actually decoded, for tests and bench

    def close(self) -> None:
        """Close the file and drop our reference to the decoded pixels.

        Not Image.close(): that destroys the pixel memory, which an output may still share with the decode (a
        photo that needs no resizing, conversion or turning). Dropping the reference frees it once unused.
        """
        image, self._image = self._image, None
        if image is not None:
            image.__exit__(None, None, None)  # closes the file Pillow opened, keeps the pixels

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def output_size(self, spec: Spec) -> tuple[int, int]:
        """Size of spec's output for this photo: upright, and turned by rotation."""
        turned = (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        return fit_inside(turned, (spec.width, spec.height))

    def _stored(self, size: tuple[int, int]) -> tuple[int, int]:
        """An output size in the orientation of the stored pixels."""
        swapped = (self.orientation in (5, 6, 7, 8)) != (self.rotation in (90, 270))
        return (size[1], size[0]) if swapped else size

    def _decode(self, need: tuple[int, int]) -> Image.Image:
        """Decode the first frame once, at the smallest scale with both sides >= need (stored orientation)."""
        image = self._image
        if image is None:
            raise ValueError("Source is closed")
        try:
            if image.format in ("JPEG", "MPO"):
                # DCT scaling: 1/2, 1/4 or 1/8 decodes cost a fraction of a full decode, in time and memory.
                image.draft(None, need)
            image.load()  # first frame of GIF, APNG, animated WebP/AVIF, MPO
            working = image
            factor = min(working.width / need[0], working.height / need[1])
            if factor >= 2 * REDUCING_GAP:
                working = working.reduce(int(factor / REDUCING_GAP))
        except _DECODE_ERRORS as exc:
            raise _damaged(exc) from None
        except MemoryError:
            raise ImageRejected(Rejection.TOO_MANY_PIXELS, "The image is too large to render.") from None
        self.decoded_size = image.size
        if working is not image:
            self.close()  # the full-size decode is no longer needed: keep at most one large copy alive
        return _normalise_mode(working)

    def _finish_root(self, image: Image.Image) -> Image.Image:
        """Source colour space and stored orientation in; upright 8-bit sRGB RGB out."""
        image = _to_srgb(image, self.icc)
        if self.orientation in ORIENTATION_TRANSPOSE:
            image = image.transpose(ORIENTATION_TRANSPOSE[self.orientation])
        if self.rotation:
            image = image.transpose(ROTATE_CLOCKWISE[self.rotation])
        return image

    def render(self, specs: Sequence[Spec], *, keep_pixels: bool = False) -> Iterator[Output]:
        """Yield one Output per spec: every THUMBNAIL-stage spec first (in the given order), then the rest.

        analysis.placeholder and analysis.phash are set before the first Output is yielded.
        """
        try:
            yield from self._render(specs, keep_pixels)
        except MemoryError:
            raise ImageRejected(Rejection.TOO_MANY_PIXELS, "The image is too large to render.") from None
        except _DECODE_ERRORS as exc:
            raise _damaged(exc) from None
        finally:
            self.close()

    def _render(self, specs: Sequence[Spec], keep_pixels: bool) -> Iterator[Output]:
        if not specs:
            return
        sizes = {spec: self.output_size(spec) for spec in specs}
        need = self._stored((max(w for w, _ in sizes.values()), max(h for _, h in sizes.values())))
        working: Image.Image | None = self._decode(need)

        # Final pixels (upright sRGB) by size. Only the first image of each stage is resized from the decode and
        # colour-converted; every smaller one is resized from the smallest finished image at least as large, so the
        # colour transform runs on two images, not on every output.
        finished: dict[tuple[int, int], Image.Image] = {}
        # Encoded bytes by (size, format): when the photo is smaller than several boxes, those specs share one
        # encode (made at the quality of the first spec that needed it) instead of re-encoding the same pixels.
        encoded: dict[tuple[tuple[int, int], str], bytes] = {}

        def derive(size: tuple[int, int]) -> Image.Image:
            if size not in finished:
                # Outputs share the photo's aspect ratio, so a larger one differs by at most a rounding pixel.
                slack = 0 if working is not None else 1
                candidates = [
                    image
                    for (width, height), image in finished.items()
                    if width + slack >= size[0] and height + slack >= size[1]
                ]
                if candidates:
                    finished[size] = _downscale(min(candidates, key=lambda im: im.width * im.height), size)
                else:
                    finished[size] = self._finish_root(_downscale(working, self._stored(size)))
            return finished[size]

        def output(spec: Spec) -> Output:
            size = sizes[spec]
            key = (size, spec.format)
            if key not in encoded:
                encoded[key] = _encode(derive(size), spec)
            pixels = derive(size) if keep_pixels else None
            return Output(spec=spec, data=encoded[key], width=size[0], height=size[1], pixels=pixels)

        def largest_first(group: list[Spec]) -> list[Spec]:
            return sorted(group, key=lambda spec: -sizes[spec][0] * sizes[spec][1])

        thumbnails = [spec for spec in specs if spec.stage == THUMBNAIL]
        variants = [spec for spec in specs if spec.stage != THUMBNAIL]
        for spec in largest_first(thumbnails):
            derive(sizes[spec])
        smallest = derive(min(sizes.values(), key=lambda size: size[0] * size[1]))
        self.analysis.placeholder = placeholder_data_uri(smallest)
        self.analysis.phash, self.analysis.detail = difference_hash(smallest)
        for spec in thumbnails:
            yield output(spec)

        if variants:
            # Start the variant stage from the decode again (not from a thumbnail), largest first; then drop the
            # decode so that peak memory is one decode plus one output.
            thumbnail_sizes = {sizes[spec] for spec in thumbnails} - {sizes[spec] for spec in variants}
            for size in thumbnail_sizes:
                finished.pop(size, None)
            for spec in largest_first(variants):
                if working is not None:
                    derive(sizes[spec])
                    working = None  # before encoding: a JPEG encoder with optimize=True buffers the whole image
                    self.close()
                yield output(spec)
