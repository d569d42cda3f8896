"""processing/stripping.py: full-resolution copies without metadata, for every accepted format, shown the way the
library shows the photo (its EXIF orientation and the user's rotation)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from processing import imaging, stripping

DATA = Path(__file__).parent / "data"
MAX_PIXELS = 150_000_000
PRIVATE = (b"http://ns.adobe.com/xap/", b"Photoshop 3.0", b"MPF\x00", b"Exif\x00\x00MM", b"GPS")


def strip(path: Path, pillow_format: str, rotation: int = 0) -> tuple[stripping.Stripped, bytes]:
    out = io.BytesIO()
    result = stripping.strip(path, pillow_format, rotation, out, max_pixels=MAX_PIXELS)
    return result, out.getvalue()


def upright(path: Path, rotation: int = 0) -> Image.Image:
    """What the library shows: EXIF orientation applied, then the user's clockwise rotation."""
    with Image.open(path) as image:
        shown = ImageOps.exif_transpose(image.convert("RGB"))
    return shown.rotate(-rotation, expand=True) if rotation else shown


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the first scan."""
    segments, position = [], 2
    while data[position] == 0xFF and data[position + 1] != 0xDA:
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segments.append((marker, data[position + 4 : position + 2 + length]))
        position += 2 + length
    return segments


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientations_combine_with_rotations(orientation, rotation):
    probe = Image.frombytes("L", (3, 2), bytes(range(6)))
    combined = stripping.combined_orientation(orientation, rotation)
    expected = probe
    if orientation in imaging.ORIENTATION_TRANSPOSE:
        expected = expected.transpose(imaging.ORIENTATION_TRANSPOSE[orientation])
    expected = expected.rotate(-rotation, expand=True)
    shown = probe if combined == 1 else probe.transpose(imaging.ORIENTATION_TRANSPOSE[combined])
    assert shown.size == expected.size and shown.tobytes() == expected.tobytes()


@pytest.mark.parametrize("rotation", [0, 90])
@pytest.mark.parametrize("number", range(0, 9))
def test_jpegs_are_copied_losslessly_and_shown_upright(number, rotation):
    path = DATA / "photos" / f"landscape_orientation_{number}.jpg"
    result, data = strip(path, "JPEG", rotation)
    assert result.format == "JPEG" and result.extension == "jpg"
    with Image.open(io.BytesIO(data)) as copy, Image.open(path) as source:
        assert copy.tobytes() == source.tobytes(), "the compressed picture is copied, not re-encoded"
        assert set(copy.getexif()) <= {0x0112}
    markers = [marker for marker, _ in jpeg_segments(data)]
    assert not {0xE1} & set(markers) or [payload for marker, payload in jpeg_segments(data) if marker == 0xE1] == [
        b"Exif\x00\x00" + stripping.orientation_exif(stripping.combined_orientation(max(number, 1), rotation))
    ]
    with Image.open(io.BytesIO(data)) as copy:
        shown = ImageOps.exif_transpose(copy.convert("RGB"))
    expected = upright(path, rotation)
    assert shown.size == expected.size and shown.tobytes() == expected.tobytes()


def test_gps_xmp_iptc_and_comments_are_gone():
    for name in ("exif_gps.jpg", "pil_sample_cmyk.jpg", "hopper.jpg"):
        path = DATA / "formats" / name
        _, data = strip(path, "JPEG")
        for marker, payload in jpeg_segments(data):
            assert marker not in (0xE1, 0xED, 0xFE) or payload.startswith(b"Exif\x00\x00II"), (name, hex(marker))
        assert not any(secret in data for secret in PRIVATE[:3]), name
        with Image.open(io.BytesIO(data)) as copy, Image.open(path) as source:
            assert copy.tobytes() == source.tobytes() and copy.mode == source.mode
            assert "comment" not in copy.info and "xmp" not in copy.info and "photoshop" not in copy.info
            assert not copy.getexif().get_ifd(0x8825)
            if source.mode == "CMYK":
                assert copy.info.get("adobe") == source.info.get("adobe"), "Adobe's colour transform kept"


def test_an_mpo_becomes_its_first_picture():
    path = DATA / "formats" / "sugarshack.mpo"
    result, data = strip(path, "MPO")
    assert result.format == "JPEG"
    assert b"MPF\x00" not in data and data.count(b"\xff\xd8") == 1 + data[2:].count(b"\xff\xd8")
    with Image.open(io.BytesIO(data)) as copy, Image.open(path) as source:
        assert copy.format == "JPEG" and getattr(copy, "n_frames", 1) == 1
        source.seek(0)
        assert copy.tobytes() == source.tobytes()


def test_icc_profiles_are_kept(tmp_path):
    png = DATA / "formats" / "icc_profile.png"
    jpeg = tmp_path / "profiled.jpg"
    with Image.open(png) as image, Image.open(DATA / "formats" / "hopper.jpg") as photo:
        photo.save(jpeg, "JPEG", icc_profile=image.info["icc_profile"], exif=photo.getexif())
    for path, pillow_format in ((png, "PNG"), (jpeg, "JPEG")):
        _, data = strip(path, pillow_format)
        with Image.open(io.BytesIO(data)) as copy, Image.open(path) as source:
            assert copy.info.get("icc_profile") == source.info.get("icc_profile") and copy.info["icc_profile"]


def test_webp_chunks_are_copied_without_exif_and_turned_only_when_needed():
    plain = DATA / "formats" / "hopper.webp"
    _, data = strip(plain, "WEBP")
    assert data == plain.read_bytes()  # nothing to strip: byte for byte

    turned = DATA / "formats" / "hopper_orientation_6.webp"
    assert b"EXIF" in turned.read_bytes()
    result, data = strip(turned, "WEBP")
    assert result.format == "WEBP" and b"EXIF" not in data and b"XMP " not in data
    with Image.open(io.BytesIO(data)) as copy:
        assert not copy.getexif()
        expected = upright(turned)
        assert copy.size == expected.size


def test_lossless_formats_are_written_again_losslessly(tmp_path):
    source = Image.linear_gradient("L").resize((120, 80)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Secret Camera Co"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)
    for pillow_format, suffix in (("PNG", "png"), ("TIFF", "tif")):
        path = tmp_path / f"source.{suffix}"
        source.save(path, pillow_format, exif=exif)
        result, data = strip(path, pillow_format, rotation=0)
        assert result.format == pillow_format
        assert b"Secret Camera Co" not in data
        with Image.open(io.BytesIO(data)) as copy:
            assert not copy.getexif().get(0x010F) and not copy.getexif().get_ifd(0x8825)
            expected = upright(path)
            assert copy.convert("RGB").tobytes() == expected.tobytes(), pillow_format


def test_animations_keep_their_frames(tmp_path):
    frames = [Image.new("RGB", (40, 30), colour).convert("P") for colour in ("red", "green", "blue")]
    path = tmp_path / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=120, loop=0, comment=b"secret note")
    result, data = strip(path, "GIF")
    assert result.format == "GIF" and b"secret note" not in data
    with Image.open(io.BytesIO(data)) as copy:
        assert copy.n_frames == 3 and copy.info["duration"] == 120

    apng = DATA / "formats" / "apng_mode_16bit.png"
    _, data = strip(apng, "PNG")
    with Image.open(io.BytesIO(data)) as copy, Image.open(apng) as source:
        assert copy.n_frames == source.n_frames


@pytest.mark.parametrize("name, pillow_format", [("pug.heic", "HEIF"), ("avif_rot1mir0.avif", "AVIF")])
def test_heic_and_avif_become_upright_jpegs_without_metadata(name, pillow_format):
    path = DATA / "formats" / name
    result, data = strip(path, pillow_format)
    assert result.format == "JPEG" and result.mime == "image/jpeg"
    with Image.open(io.BytesIO(data)) as copy:
        assert not copy.getexif() and "xmp" not in copy.info
        with imaging.open_image(path, MAX_PIXELS) as source:
            turn = imaging.orientation_of(source)
            size = source.size if turn in (1, 2, 3, 4) else source.size[::-1]
        assert copy.size == size
