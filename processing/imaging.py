"""Open, check and render photos. Pure: a file in, images out; no ORM, settings or Redis."""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image, ImageFile, ImageOps

from processing.specs import Spec

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a pinned requirement
    pillow_heif = None

ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.init()  # load every plugin now, so the allow-list below can name MPO and TIFF

# Pillow openers we try; anything else is rejected before decoding. (MPO comes through the JPEG opener.)
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF", "TIFF")
ACCEPTED_DESCRIPTION = "JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF, MPO or TIFF"


class ImageRejected(Exception):
    """The file is not an image we accept; the message is for a person."""


@dataclass
class Probe:
    format: str
    width: int  # upright
    height: int


@dataclass
class Metadata:
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


@dataclass
class Analysis:
    placeholder: str = ""
    phash: str = ""
    extra: dict = field(default_factory=dict)


def _open(path: str | Path, max_pixels: int) -> Image.Image:
    # Pillow refuses images over twice this; our own, exact limit is checked below.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path, formats=ALLOWED_FORMATS)
        except Image.DecompressionBombError:
            raise ImageRejected(f"The image is too large: more than {max_pixels / 1e6:.0f} million pixels.") from None
        except Image.UnidentifiedImageError:
            raise ImageRejected(f"This is not an image we accept. Upload {ACCEPTED_DESCRIPTION}.") from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRejected(f"The image is damaged and cannot be read ({exc}).") from None
    if image.width * image.height > max_pixels:
        image.close()
        raise ImageRejected(
            f"The image is too large: {image.width} x {image.height} pixels is more than "
            f"{max_pixels / 1e6:.0f} million."
        )
    if image.width < 1 or image.height < 1:
        image.close()
        raise ImageRejected("The image has no pixels.")
    return image


def _upright_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    if orientation in (5, 6, 7, 8):
        return image.height, image.width
    return image.width, image.height


def probe(path: str | Path, *, max_pixels: int) -> Probe:
    """Read the header (and for JPEG a cheap 1/8-scale decode) and reject what we cannot render."""
    image = _open(path, max_pixels)
    try:
        fmt = image.format
        width, height = _upright_size(image)
        try:
            if fmt in ("JPEG", "MPO"):
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
            elif fmt == "PNG":
                image.verify()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRejected(f"The image is damaged or cut short and cannot be read ({exc}).") from None
        return Probe(format=fmt, width=width, height=height)
    finally:
        image.close()


def _rational(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value or "").strip("\x00 ").strip()


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
    raw = _text(exif_ifd.get(0x9003) or exif_ifd.get(0x9004) or base.get(0x0132))
    if not raw:
        return None, ""
    try:
        naive = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, ""
    offset = _text(exif_ifd.get(0x9011) or exif_ifd.get(0x9012) or exif_ifd.get(0x9010))
    if len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            delta = timedelta(hours=hours, minutes=minutes)
            tz = timezone(delta if offset[0] == "+" else -delta)
            return naive.replace(tzinfo=tz), offset
        except ValueError:
            pass
    return naive, ""


def metadata_from_image(image: Image.Image) -> Metadata:
    exif = image.getexif()
    base = dict(exif)
    exif_ifd = dict(exif.get_ifd(0x8769))
    gps = dict(exif.get_ifd(0x8825))
    taken_at, offset = _taken_at(exif_ifd, base)
    meta = Metadata(
        taken_at=taken_at,
        taken_at_offset=offset,
        camera_make=_text(base.get(0x010F))[:100],
        camera_model=_text(base.get(0x0110))[:100],
        lens=_text(exif_ifd.get(0xA434))[:150],
        focal_length=_rational(exif_ifd.get(0x920A)),
        aperture=_rational(exif_ifd.get(0x829D)),
        iso=None,
    )
    exposure = _rational(exif_ifd.get(0x829A))
    if exposure:
        meta.exposure_time = f"1/{round(1 / exposure)}" if exposure < 1 else f"{exposure:g}"
    iso = exif_ifd.get(0x8827)
    if isinstance(iso, (tuple, list)):
        iso = iso[0] if iso else None
    if isinstance(iso, int) and iso > 0:
        meta.iso = iso
    if gps:
        meta.gps_latitude = _gps_coordinate(gps.get(2), gps.get(1))
        meta.gps_longitude = _gps_coordinate(gps.get(4), gps.get(3))
    return meta


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (128, 128, 128))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def _encode(image: Image.Image, spec: Spec) -> bytes:
    buffer = io.BytesIO()
    if spec.format == "JPEG":
        image.save(buffer, "JPEG", quality=spec.quality, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=spec.quality, method=4)
    return buffer.getvalue()


def placeholder_data_uri(image: Image.Image) -> str:
    tiny = image.copy()
    tiny.thumbnail((16, 16), Image.Resampling.BOX)
    buffer = io.BytesIO()
    tiny.save(buffer, "WEBP", quality=40)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode()


def difference_hash(image: Image.Image) -> str:
    small = image.convert("L").resize((9, 8), Image.Resampling.BOX)
    pixels = list(small.getdata())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return f"{bits:016x}"


class Source:
    """An opened photo: upright size, metadata, and renders of any specs."""

    def __init__(self, path: str | Path, *, max_pixels: int):
        self.path = Path(path)
        self.max_pixels = max_pixels
        self._image = _open(path, max_pixels)
        self.format = self._image.format
        self.width, self.height = _upright_size(self._image)
        self.metadata = metadata_from_image(self._image)
        self.analysis = Analysis()

    def close(self) -> None:
        self._image.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def render(self, specs: Sequence[Spec]) -> Iterator[Output]:
        try:
            self._image.seek(0)
            self._image.load()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRejected(f"The image is damaged and cannot be read ({exc}).") from None
        upright = _to_rgb(ImageOps.exif_transpose(self._image))
        for spec in specs:
            out = upright.copy()
            out.thumbnail((spec.width, spec.height), Image.Resampling.LANCZOS)
            if not self.analysis.placeholder:
                self.analysis.placeholder = placeholder_data_uri(out)
                self.analysis.phash = difference_hash(out)
            yield Output(spec=spec, data=_encode(out, spec), width=out.width, height=out.height)
