"""processing.imaging: every format in, upright sRGB pixels without metadata out. No database needed."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

from processing import imaging
from processing.specs import THUMBNAIL, VARIANT, Spec, build_specs

DATA = Path(__file__).resolve().parent / "data"
PHOTOS = DATA / "photos"
FORMATS = DATA / "formats"
BAD = DATA / "bad"
MAX_PIXELS = 150_000_000
SPECS = build_specs([(1080, 1920), (1920, 1080), (2160, 3840), (3840, 2160)], "JPEG")
# Mean absolute difference (0-255) on a 48 px wide downscale. A correct render scores ~1-3 against its reference;
# the same scene mirrored or turned scores 30+ (checked in test_scene_comparison_can_fail).
SAME_SCENE = 8.0


def render_all(path: Path, specs=SPECS, **kwargs) -> tuple[imaging.Source, list[imaging.Output]]:
    with imaging.Source(path, max_pixels=MAX_PIXELS) as source:
        outputs = list(source.render(specs, **kwargs))
    return source, outputs


def decode(output: imaging.Output) -> Image.Image:
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


def difference(a: Image.Image, b: Image.Image, width: int = 48) -> float:
    """Mean absolute difference per channel of two images of (about) the same aspect ratio, at a small size."""
    size = (width, max(1, round(width * a.height / a.width)))
    small_a = a.convert("RGB").resize(size, Image.Resampling.BOX)
    small_b = b.convert("RGB").resize(size, Image.Resampling.BOX)
    return sum(ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean) / 3


def upright_scene(kind: str) -> Image.Image:
    # Orientation 1 is stored upright: it is the reference for every other file of its kind.
    with Image.open(PHOTOS / f"{kind}_orientation_1.jpg") as image:
        return image.convert("RGB")


def flatten(image: Image.Image) -> Image.Image:
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, imaging.BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def independent_reference(path: Path) -> Image.Image:
    """What the photo should look like, computed the slow, obvious way with Pillow and LittleCMS."""
    with Image.open(path) as image:
        image.load()  # the frame Pillow opens on: the first, or HEIF's primary item
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        if upright.mode == "I;16":
            upright = upright.point(lambda value: value / 257).convert("L")
        if icc:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            if upright.mode in ("RGBA", "LA", "PA", "P"):
                upright = upright.convert("RGBA")
                converted = ImageCms.profileToProfile(upright, profile, srgb, outputMode="RGBA")
            else:
                mode = upright.mode if upright.mode in ("RGB", "CMYK", "L") else "RGB"
                converted = ImageCms.profileToProfile(upright.convert(mode), profile, srgb, outputMode="RGB")
            return flatten(converted)
        return flatten(upright)


# --- orientation and content ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
@pytest.mark.parametrize("number", range(9))
def test_every_variant_of_every_photo_is_upright_and_shows_the_scene(kind: str, number: int):
    scene = upright_scene(kind)
    source, outputs = render_all(PHOTOS / f"{kind}_orientation_{number}.jpg")

    assert (source.width, source.height) == scene.size
    assert [output.spec for output in outputs[:2]] == [spec for spec in SPECS if spec.stage == THUMBNAIL]
    assert {output.spec.name for output in outputs} == {spec.name for spec in SPECS}
    for output in outputs:
        image = decode(output)
        expected = imaging.fit_inside(scene.size, (output.spec.width, output.spec.height))
        assert image.size == expected == (output.width, output.height), output.spec.name
        assert difference(image, scene) < SAME_SCENE, (output.spec.name, difference(image, scene))


def test_scene_comparison_can_fail():
    scene = upright_scene("landscape")
    for wrong in (ImageOps.mirror(scene), ImageOps.flip(scene), scene.rotate(180)):
        assert difference(wrong, scene) > 4 * SAME_SCENE


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_the_users_clockwise_turn_comes_on_top_of_the_exif_orientation(rotation: int):
    turned = {
        0: upright_scene("landscape"),
        90: upright_scene("landscape").transpose(Image.Transpose.ROTATE_270),
        180: upright_scene("landscape").transpose(Image.Transpose.ROTATE_180),
        270: upright_scene("landscape").transpose(Image.Transpose.ROTATE_90),
    }[rotation]
    with imaging.Source(PHOTOS / "landscape_orientation_7.jpg", max_pixels=MAX_PIXELS, rotation=rotation) as source:
        outputs = list(source.render(SPECS))
        assert (source.width, source.height) == (1800, 1200)
    for output in outputs:
        image = decode(output)
        assert image.size == (output.width, output.height)
        assert image.size == imaging.fit_inside(turned.size, (output.spec.width, output.spec.height))
        assert difference(image, turned) < SAME_SCENE, (output.spec.name, difference(image, turned))


def _stored_for(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for this EXIF orientation (the inverse of what a viewer applies)."""
    inverse = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
    transpose = inverse.get(orientation, imaging.ORIENTATION_TRANSPOSE.get(orientation))
    return upright.transpose(transpose) if transpose is not None else upright.copy()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "AVIF", "HEIF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_for_every_format(tmp_path: Path, fmt: str, orientation: int):
    scene = upright_scene("landscape").resize((300, 200), Image.Resampling.LANCZOS)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"oriented.{fmt.lower()}"
    _stored_for(scene, orientation).save(path, fmt, exif=exif.tobytes(), quality=90)

    assert imaging.probe(path, max_pixels=MAX_PIXELS).width == 300
    source, outputs = render_all(path)

    assert (source.width, source.height) == (300, 200)
    for output in outputs:
        image = decode(output)
        assert image.size == (300, 200) or output.spec.width < 300
        assert difference(image, scene) < SAME_SCENE, (output.spec.name, difference(image, scene))


def test_avif_rotated_and_mirrored_by_its_container_comes_out_upright():
    # irot=1 (90 degrees anticlockwise) then imir axis 0 (left-right) in the container, which Pillow reports as EXIF
    # orientation 5: the stored pixels are portrait, the scene (with readable "top"/"left" labels) landscape.
    source, outputs = render_all(FORMATS / "avif_rot1mir0.avif")
    assert (source.width, source.height) == (640, 427)
    with Image.open(FORMATS / "avif_rot1mir0.avif") as image:
        assert image.size == (427, 640)
        stored = image.convert("RGB")
    upright = stored.transpose(Image.Transpose.TRANSPOSE)  # the two combined
    for output in outputs:
        assert difference(decode(output), upright) < SAME_SCENE
        assert difference(decode(output), ImageOps.mirror(upright)) > 2 * SAME_SCENE


# --- one test per format sample --------------------------------------------------------------------------------

SAMPLES = {
    "hopper.jpg": ("JPEG", (128, 128)),
    "hopper_gray.jpg": ("JPEG", (128, 128)),
    "pil_sample_cmyk.jpg": ("JPEG", (100, 100)),
    "exif_gps.jpg": ("JPEG", (8, 8)),
    "sugarshack.mpo": ("MPO", (640, 480)),
    "hopper.webp": ("WEBP", (128, 128)),
    "hopper_orientation_6.webp": ("WEBP", (128, 128)),
    "iss634.webp": ("WEBP", (245, 245)),
    "avif_hopper.avif": ("AVIF", (128, 128)),
    "avif_transparency.avif": ("AVIF", (64, 64)),
    "avif_icc_profile.avif": ("AVIF", (57, 57)),
    "avif_rot1mir0.avif": ("AVIF", (640, 427)),
    "avif_star.avifs": ("AVIF", (159, 159)),
    "icc_profile.png": ("PNG", (57, 57)),
    "apng_mode_16bit.png": ("PNG", (128, 64)),
    "pug.heic": ("HEIF", (4032, 3024)),
    "zpug.heic": ("HEIF", (64, 64)),
}


def test_every_format_sample_has_a_test():
    on_disk = {path.name for path in FORMATS.iterdir() if not path.name.startswith("LICENSE")}
    assert on_disk == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_format_sample_renders_every_spec_with_the_right_pixels(name: str):
    fmt, size = SAMPLES[name]
    path = FORMATS / name
    probe = imaging.probe(path, max_pixels=MAX_PIXELS)
    assert (probe.format, probe.width, probe.height) == (fmt, *size)

    source, outputs = render_all(path)
    reference = independent_reference(path)
    assert reference.size == size
    assert len(outputs) == len(SPECS)
    for output in outputs:
        image = decode(output)
        assert image.format == output.spec.format
        assert image.mode == "RGB"
        assert image.size == imaging.fit_inside(size, (output.spec.width, output.spec.height))
        assert difference(image, reference) < 6, (output.spec.name, difference(image, reference))


def test_animated_files_give_their_first_frame():
    for name in ("iss634.webp", "avif_star.avifs", "apng_mode_16bit.png", "sugarshack.mpo"):
        with Image.open(FORMATS / name) as image:
            assert getattr(image, "n_frames", 1) > 1, name
            image.seek(1)
            second = flatten(image)
        _, outputs = render_all(FORMATS / name)
        first = independent_reference(FORMATS / name)
        assert difference(decode(outputs[0]), first) < difference(decode(outputs[0]), second), name


def test_tiff_and_gif_are_accepted(tmp_path: Path):
    scene = upright_scene("portrait").resize((200, 300))
    scene.save(tmp_path / "scene.tif", "TIFF", compression="tiff_lzw")
    scene.quantize(256).save(tmp_path / "scene.gif", "GIF")
    for name in ("scene.tif", "scene.gif"):
        _, outputs = render_all(tmp_path / name)
        assert all(difference(decode(output), scene) < SAME_SCENE for output in outputs), name


def test_16_bit_greyscale_png_keeps_its_tones(tmp_path: Path):
    ramp = Image.linear_gradient("L").resize((64, 64)).convert("I").point(lambda value: value * 257)
    ramp.convert("I;16").save(tmp_path / "ramp16.png")
    with Image.open(tmp_path / "ramp16.png") as image:
        assert image.mode.startswith("I;16")
    _, outputs = render_all(tmp_path / "ramp16.png")
    assert difference(decode(outputs[0]), Image.linear_gradient("L").resize((64, 64))) < 3


def test_alpha_is_flattened_on_the_neutral_background(tmp_path: Path):
    transparent = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    transparent.paste((0, 0, 255, 255), (0, 0, 20, 40))
    for fmt in ("PNG", "WEBP", "AVIF"):
        path = tmp_path / f"alpha.{fmt.lower()}"
        transparent.save(path, fmt, lossless=True, quality=100)
        _, outputs = render_all(path, [Spec("thumb", 400, 400, "WEBP", 90, THUMBNAIL)])
        image = decode(outputs[0])
        right = ImageStat.Stat(image.crop((25, 0, 40, 40))).mean
        left = ImageStat.Stat(image.crop((0, 0, 15, 40))).mean
        assert all(abs(channel - 128) < 6 for channel in right), (fmt, right)
        assert left[2] > 200 and left[0] < 40, (fmt, left)


# --- colour ----------------------------------------------------------------------------------------------------


def mean_colour(image: Image.Image) -> list[float]:
    return ImageStat.Stat(image.convert("RGB")).mean


def test_cmyk_jpeg_comes_out_in_the_right_colours():
    path = FORMATS / "pil_sample_cmyk.jpg"
    with Image.open(path) as image:
        assert image.mode == "CMYK" and "icc_profile" not in image.info
        # Untagged CMYK: (255-C)(255-K) per channel, as browsers show it; Adobe's inverted CMYK is undone on read.
        reference = image.convert("RGB")
    _, outputs = render_all(path)
    for output in outputs:
        ours = mean_colour(decode(output))
        assert all(abs(a - b) < 2.5 for a, b in zip(ours, mean_colour(reference), strict=True)), ours
        assert difference(decode(output), ImageOps.invert(reference)) > 40


def display_p3_profile() -> bytes:
    with Image.open(FORMATS / "pug.heic") as image:
        icc = image.info["icc_profile"]
    assert "Display P3" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    return icc


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "AVIF", "TIFF"])
def test_embedded_profile_is_converted_to_srgb_by_littlecms(tmp_path: Path, fmt: str):
    icc = display_p3_profile()
    patches = Image.new("RGB", (120, 40))
    for index, colour in enumerate([(230, 30, 20), (30, 220, 40), (120, 40, 220)]):
        patches.paste(colour, (index * 40, 0, index * 40 + 40, 40))
    path = tmp_path / f"p3.{fmt.lower()}"
    patches.save(path, fmt, icc_profile=icc, quality=100, lossless=True)
    with Image.open(path) as saved:
        assert saved.info.get("icc_profile") == icc
        stored = saved.convert("RGB")
    expected = ImageCms.profileToProfile(
        stored, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
    )
    _, outputs = render_all(path, [Spec("thumb", 400, 400, "WEBP", 95, THUMBNAIL)])
    ours = decode(outputs[0])
    for index in range(3):
        box = (index * 40 + 8, 8, index * 40 + 32, 32)
        want, got, raw = (mean_colour(im.crop(box)) for im in (expected, ours, stored))
        assert all(abs(a - b) < 3 for a, b in zip(got, want, strict=True)), (index, got, want)
        # the test can fail: an unconverted P3 patch is well away from its sRGB value
        assert max(abs(a - b) for a, b in zip(raw, want, strict=True)) > 8, (raw, want)


def test_icc_samples_match_littlecms():
    for name in ("icc_profile.png", "avif_icc_profile.avif", "pug.heic"):
        reference = independent_reference(FORMATS / name)
        _, outputs = render_all(FORMATS / name, [Spec("thumb", 400, 400, "WEBP", 95, THUMBNAIL)])
        ours = decode(outputs[0]).resize(reference.size, Image.Resampling.BOX)
        assert all(abs(a - b) < 2.5 for a, b in zip(mean_colour(ours), mean_colour(reference), strict=True)), name


def test_every_variant_is_tagged_srgb():
    for name in ("pug.heic", "hopper.jpg", "icc_profile.png"):
        _, outputs = render_all(FORMATS / name)
        for output in outputs:
            icc = decode(output).info.get("icc_profile")
            assert icc, (name, output.spec.name)
            assert "srgb" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).lower()


# --- privacy ---------------------------------------------------------------------------------------------------

METADATA_MARKERS = (b"Exif\x00", b"EXIF", b"XMP ", b"<x:xmpmeta", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"GPS")


@pytest.mark.parametrize(
    "name", ["exif_gps.jpg", "pug.heic", "pil_sample_cmyk.jpg", "avif_rot1mir0.avif", "sugarshack.mpo"]
)
def test_no_variant_carries_exif_gps_or_xmp(name: str):
    with Image.open(FORMATS / name) as original:
        assert original.info.get("exif") or original.info.get("xmp")
    _, outputs = render_all(FORMATS / name)
    for output in outputs:
        image = decode(output)
        assert not image.getexif(), output.spec.name
        assert "exif" not in image.info and "xmp" not in image.info
        assert not any(marker in output.data for marker in METADATA_MARKERS), output.spec.name


def test_metadata_goes_into_fields_instead():
    with imaging.Source(FORMATS / "pug.heic", max_pixels=MAX_PIXELS) as source:
        meta = source.metadata
    assert meta.taken_at == datetime(2023, 2, 21, 14, 33, 8, 302000, tzinfo=timezone(timedelta(hours=3)))
    assert meta.taken_at_offset == "+03:00"
    assert (meta.camera_make, meta.camera_model) == ("Apple", "iPhone 13 Pro")
    assert meta.lens == "iPhone 13 Pro back dual wide camera 5.7mm f/1.5"
    assert (meta.focal_length, meta.aperture, meta.exposure_time, meta.iso) == (5.7, 1.5, "1/121", 125)
    assert meta.gps_latitude == pytest.approx(44.8504778)
    assert meta.gps_longitude == pytest.approx(34.9766472)
    assert set(imaging.Metadata.__dataclass_fields__) <= {
        "taken_at",
        "taken_at_offset",
        "camera_make",
        "camera_model",
        "lens",
        "focal_length",
        "aperture",
        "exposure_time",
        "iso",
        "gps_latitude",
        "gps_longitude",
    }


def test_taken_at_without_offset_is_naive_and_southern_western_gps_is_negative(tmp_path: Path):
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif.get_ifd(0x8769)[0x9003] = "2024:12:31 23:59:58"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "S", 2: (33.0, 51.0, 36.0), 3: "W", 4: (70.0, 39.0, 0.0)})
    Image.new("RGB", (16, 16)).save(tmp_path / "meta.jpg", exif=exif)
    with imaging.Source(tmp_path / "meta.jpg", max_pixels=MAX_PIXELS) as source:
        meta = source.metadata
    assert meta.taken_at == datetime(2024, 12, 31, 23, 59, 58) and meta.taken_at.tzinfo is None
    assert meta.taken_at_offset == ""
    assert meta.camera_make == "Canon"
    assert meta.gps_latitude == pytest.approx(-33.86)
    assert meta.gps_longitude == pytest.approx(-70.65)


def test_broken_exif_values_are_dropped_not_stored():
    with imaging.Source(FORMATS / "exif_gps.jpg", max_pixels=MAX_PIXELS) as source:
        meta = source.metadata
    assert meta.exposure_time == ""  # 4294967295/1 s
    assert meta.gps_latitude is None and meta.gps_longitude is None  # a single number, not degrees/min/sec


@pytest.mark.parametrize(
    ("description", "caption"),
    [
        (" Puffins at Látrabjarg\x00 ".encode(), "Puffins at Látrabjarg"),  # UTF-8, as phones write it
        ("Café".encode("latin-1"), "Café"),
        ("OLYMPUS DIGITAL CAMERA", ""),
        ("SONY DSC  ", ""),
        ("", ""),
    ],
)
def test_the_caption_is_the_files_image_description_unless_a_camera_wrote_it(tmp_path: Path, description, caption):
    exif = Image.Exif()
    if description:
        exif[0x010E] = description  # ImageDescription
    Image.new("RGB", (16, 16)).save(tmp_path / "captioned.jpg", exif=exif)
    with Image.open(tmp_path / "captioned.jpg") as image:
        assert imaging.caption_from_image(image) == caption


# --- placeholder and perceptual hash ---------------------------------------------------------------------------


def test_placeholder_is_a_small_blurry_data_uri_of_the_upright_photo():
    source, outputs = render_all(PHOTOS / "portrait_orientation_6.jpg")
    uri = source.analysis.placeholder
    assert uri.startswith("data:image/webp;base64,") and len(uri) < 1024
    tiny = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert max(tiny.size) <= imaging.PLACEHOLDER_EDGE and tiny.width < tiny.height
    assert difference(tiny, upright_scene("portrait"), width=12) < 2 * SAME_SCENE


def test_placeholder_and_hash_are_set_before_the_first_thumbnail_is_yielded():
    with imaging.Source(PHOTOS / "landscape_orientation_3.jpg", max_pixels=MAX_PIXELS) as source:
        first = next(iter(source.render(SPECS)))
        assert first.spec.stage == THUMBNAIL
        assert source.analysis.placeholder and len(source.analysis.phash) == 16


def test_perceptual_hash_matches_the_same_scene_in_every_orientation_and_not_another_photo():
    hashes = {}
    for number in range(9):
        source, _ = render_all(PHOTOS / f"landscape_orientation_{number}.jpg", SPECS[:1])
        hashes[number] = source.analysis.phash
        int(source.analysis.phash, 16)
    other, _ = render_all(FORMATS / "hopper.jpg", SPECS[:1])
    for number, value in hashes.items():
        assert hash_distance(value, hashes[1]) <= 6, number
        assert hash_distance(value, other.analysis.phash) >= 16, number


# --- decode once, derive, share ---------------------------------------------------------------------------------


def test_large_jpeg_is_decoded_once_at_a_reduced_scale(tmp_path: Path):
    big = upright_scene("landscape").resize((4000, 2667))
    big.save(tmp_path / "big.jpg", quality=85)
    thumbnails = [spec for spec in SPECS if spec.stage == THUMBNAIL]
    with imaging.Source(tmp_path / "big.jpg", max_pixels=MAX_PIXELS) as source:
        outputs = list(source.render(thumbnails))
        # the largest thumbnail needs 800 px: a 1/4 DCT-scaled decode (1000 px) serves it
        assert source.decoded_size == (1000, 667)
    assert [decode(output).size for output in outputs] == [(400, 267), (800, 533)]
    with imaging.Source(tmp_path / "big.jpg", max_pixels=MAX_PIXELS) as source:
        list(source.render(SPECS))
        assert source.decoded_size == (4000, 2667)  # 3840x2160 needs 3240x2160: no reduced decode is enough


def test_outputs_of_a_small_photo_share_one_encode_but_every_spec_gets_one():
    _, outputs = render_all(FORMATS / "hopper.jpg")
    by_name = {output.spec.name: output for output in outputs}
    assert set(by_name) == {spec.name for spec in SPECS}
    assert by_name["thumb"].data is by_name["thumb2x"].data is by_name["preview"].data
    displays = [output for output in outputs if output.spec.name.startswith("display-")]
    assert len({id(output.data) for output in displays}) == 1


def test_render_yields_thumbnails_first_then_variants():
    specs = (
        Spec("thumb", 400, 400, "WEBP", 80, THUMBNAIL),
        Spec("thumb2x", 800, 800, "WEBP", 75, THUMBNAIL),
        Spec("display-640x480", 640, 480, "JPEG", 85, VARIANT),
        Spec("preview", 2048, 2048, "WEBP", 82, VARIANT),
    )
    _, outputs = render_all(PHOTOS / "landscape_orientation_8.jpg", specs)
    assert [output.spec.name for output in outputs[:2]] == ["thumb", "thumb2x"]
    assert {output.spec.name for output in outputs[2:]} == {"display-640x480", "preview"}
    assert {output.spec.name: (output.width, output.height) for output in outputs} == {
        "thumb": (400, 267),
        "thumb2x": (800, 533),
        "display-640x480": (640, 427),
        "preview": (1800, 1200),
    }


# --- bad files --------------------------------------------------------------------------------------------------


def test_decompression_bomb_is_too_large():
    with pytest.raises(imaging.ImageRejected, match="too large"):
        imaging.probe(BAD / "decompression_bomb.gif", max_pixels=MAX_PIXELS)
    with pytest.raises(imaging.ImageRejected, match="too large"):
        imaging.Source(BAD / "decompression_bomb.gif", max_pixels=MAX_PIXELS)


def test_pixel_limit_is_exact():
    with pytest.raises(imaging.ImageRejected, match="too large"):
        imaging.probe(PHOTOS / "landscape_orientation_1.jpg", max_pixels=1800 * 1200 - 1)
    assert imaging.probe(PHOTOS / "landscape_orientation_1.jpg", max_pixels=1800 * 1200).width == 1800


def test_gif_whose_later_frame_is_a_bomb_renders_only_its_safe_first_frame():
    _, outputs = render_all(BAD / "decompression_bomb_extents.gif")
    assert all((output.width, output.height) == (100, 100) for output in outputs)


def test_truncated_jpeg_is_rejected_at_upload_and_at_render():
    with pytest.raises(imaging.ImageRejected, match="damaged or cut short"):
        imaging.probe(BAD / "truncated_jpeg.jpg", max_pixels=MAX_PIXELS)
    with imaging.Source(BAD / "truncated_jpeg.jpg", max_pixels=MAX_PIXELS) as source:
        with pytest.raises(imaging.ImageRejected, match="damaged or cut short"):
            list(source.render(SPECS))


def test_truncated_heic_is_rejected_although_its_first_item_decodes():
    # The file declares an mdat one byte longer than what is there; libheif still decodes the 16x16 primary item.
    with pytest.raises(imaging.ImageRejected, match="cut short.*mdat"):
        imaging.probe(BAD / "truncated.heic", max_pixels=MAX_PIXELS)
    with pytest.raises(imaging.ImageRejected, match="cut short"):
        imaging.Source(BAD / "truncated.heic", max_pixels=MAX_PIXELS)


def cut_file(tmp_path: Path, fmt: str) -> Path:
    """The 300 x 200 scene in fmt, cut after two thirds: the header is whole, the pixel data is not."""
    buffer = io.BytesIO()
    upright_scene("landscape").resize((300, 200)).save(buffer, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) * 2 // 3])
    return path


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "AVIF"])
def test_truncated_png_webp_and_avif_are_rejected_at_upload_and_at_render(tmp_path: Path, fmt: str):
    path = cut_file(tmp_path, fmt)
    with pytest.raises(imaging.ImageRejected, match="damaged or cut short"):
        imaging.probe(path, max_pixels=MAX_PIXELS)
    # The worker refuses the stored file as well, when opening it (WebP, AVIF) or when decoding it (PNG).
    with pytest.raises(imaging.ImageRejected, match="damaged or cut short"):
        with imaging.Source(path, max_pixels=MAX_PIXELS) as source:
            list(source.render(SPECS))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "GIF"])
def test_render_rejects_a_file_whose_header_opens_but_whose_pixels_are_cut(tmp_path: Path, fmt: str):
    """Source reads only the header; the pixels are read by render(), which must turn the decoder's error into a
    DAMAGED rejection (the render job stores its message as the photo's error), never another exception."""
    path = cut_file(tmp_path, fmt)
    source = imaging.Source(path, max_pixels=MAX_PIXELS)  # the header is whole: opening succeeds
    assert (source.format, source.width, source.height) == (fmt, 300, 200)
    outputs = source.render(SPECS)
    with pytest.raises(imaging.ImageRejected) as rejected:
        next(outputs)
    assert rejected.value.kind == imaging.Rejection.DAMAGED
    assert rejected.value.message.startswith("The image is damaged or cut short and cannot be read (image file is")


@pytest.mark.parametrize("fmt", ["TIFF", "GIF"])
def test_a_cut_tiff_or_gif_passes_the_upload_probe_so_render_is_what_refuses_it(tmp_path: Path, fmt: str):
    # probe() checks JPEG, PNG and HEIF/AVIF structure, not TIFF strips or GIF image data: such an upload is stored
    # and its render job fails with the reason.
    path = cut_file(tmp_path, fmt)
    assert imaging.probe(path, max_pixels=MAX_PIXELS) == imaging.Probe(format=fmt, width=300, height=200)
    with imaging.Source(path, max_pixels=MAX_PIXELS) as source:
        with pytest.raises(imaging.ImageRejected, match="damaged or cut short"):
            list(source.render(SPECS))


@pytest.mark.parametrize(
    "name, content",
    [
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        ("notes.txt", b"hello"),
        ("empty.jpg", b""),
    ],
)
def test_not_an_image_we_accept_names_the_accepted_formats(tmp_path: Path, name: str, content: bytes):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(imaging.ImageRejected, match="not an image we accept") as excinfo:
        imaging.probe(tmp_path / name, max_pixels=MAX_PIXELS)
    for fmt in ("JPEG", "PNG", "GIF", "WebP", "AVIF", "HEIC", "TIFF"):
        assert fmt in str(excinfo.value)


@pytest.mark.parametrize("fmt", ["BMP", "ICO", "PPM", "JPEG2000"])
def test_formats_pillow_reads_but_we_do_not_accept_are_rejected(tmp_path: Path, fmt: str):
    path = tmp_path / "image.bin"
    Image.new("RGB", (32, 32), (10, 20, 30)).save(path, fmt)
    with pytest.raises(imaging.ImageRejected, match="not an image we accept"):
        imaging.probe(path, max_pixels=MAX_PIXELS)


def test_banded_resize_of_a_large_image_gives_the_pixels_of_one_resize():
    large = upright_scene("landscape").resize((4200, 2800))
    assert large.width * large.height > imaging.BAND_ABOVE_PIXELS
    banded = imaging._downscale(large, (3000, 2000))
    direct = large.resize((3000, 2000), Image.Resampling.LANCZOS)
    # Equal up to floating-point rounding of the band boxes: no seams, no shift.
    diff = ImageChops.difference(banded, direct)
    assert max(ImageStat.Stat(diff).mean) < 0.25
    assert max(high for _, high in diff.getextrema()) <= 8
    seams = ImageChops.difference(banded.crop((0, 250, 3000, 262)), direct.crop((0, 250, 3000, 262)))
    assert max(ImageStat.Stat(seams).mean) < 0.25


def test_progressive_jpeg_and_large_mpo_decode_at_a_reduced_scale_and_show_the_first_frame(tmp_path: Path):
    scene = upright_scene("landscape").resize((4000, 2667))
    other = ImageOps.mirror(scene)
    scene.save(tmp_path / "progressive.jpg", quality=85, progressive=True)
    scene.save(tmp_path / "camera.mpo", "MPO", save_all=True, append_images=[other], quality=85)
    thumbnails = [spec for spec in SPECS if spec.stage == THUMBNAIL]
    for name, fmt in (("progressive.jpg", "JPEG"), ("camera.mpo", "MPO")):
        with imaging.Source(tmp_path / name, max_pixels=MAX_PIXELS) as source:
            assert source.format == fmt
            outputs = list(source.render(thumbnails))
            assert source.decoded_size == (1000, 667), name
        for output in outputs:
            assert difference(decode(output), scene) < SAME_SCENE, name
            assert difference(decode(output), other) > 2 * SAME_SCENE, name


def test_png_with_a_corrupted_chunk_is_rejected_at_upload(tmp_path: Path):
    buffer = io.BytesIO()
    upright_scene("landscape").resize((300, 200)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 100] ^= 0xFF
    (tmp_path / "flipped.png").write_bytes(bytes(data))
    with pytest.raises(imaging.ImageRejected, match="damaged or cut short.*IDAT.*checksum"):
        imaging.probe(tmp_path / "flipped.png", max_pixels=MAX_PIXELS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_sample_cut_anywhere_is_rejected_cleanly_never_with_another_error(tmp_path: Path, name: str):
    data = (FORMATS / name).read_bytes()
    for fraction in (0.05, 0.3, 0.6, 0.9, 0.999):
        path = tmp_path / f"cut-{fraction}-{name}"
        path.write_bytes(data[: int(len(data) * fraction)])
        try:
            imaging.probe(path, max_pixels=MAX_PIXELS)
            with imaging.Source(path, max_pixels=MAX_PIXELS) as source:
                list(source.render(SPECS))
        except imaging.ImageRejected as exc:
            assert "damaged or cut short" in str(exc) or "not an image we accept" in str(exc), (fraction, exc)
        else:
            # Only formats whose decoders stop at the first frame may legitimately ignore a cut later frame.
            assert name in ("sugarshack.mpo", "iss634.webp", "avif_star.avifs", "apng_mode_16bit.png"), fraction


def hash_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
