"""Deterministic benchmark inputs, generated once into var/bench/ (ignored by git)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
SCENE = ROOT / "tests" / "data" / "photos" / "landscape_orientation_1.jpg"
HEIC = ROOT / "tests" / "data" / "formats" / "pug.heic"


def _photo_like(width: int, height: int, seed: int) -> Image.Image:
    """A real photo scaled up, with sensor-like grain so it compresses like a camera file, not a flat render."""
    with Image.open(SCENE) as scene:
        upright = ImageOps.exif_transpose(scene).convert("RGB")
    base = upright.resize((width, height), Image.Resampling.BICUBIC)
    # Gaussian grain, the same on every run: Image.effect_noise takes no seed, so we tile a seeded patch.
    tile_size = 509  # prime, so the tiling never lines up with 8x8 JPEG blocks
    rng = random.Random(seed)
    tile = Image.new("L", (tile_size, tile_size))
    tile.putdata([max(0, min(255, int(rng.gauss(128, 14)))) for _ in range(tile_size * tile_size)])
    grain = Image.new("L", (width, height))
    for y in range(0, height, tile_size):
        for x in range(0, width, tile_size):
            grain.paste(tile, (x, y))
    grain = grain.filter(ImageFilter.GaussianBlur(0.6))
    noise = Image.merge("RGB", (grain, grain, grain))
    # base + noise - 128, clipped: the arithmetic runs in C.
    return ImageChops.add(base, noise, scale=1.0, offset=-128)


def jpeg_24mp() -> Path:
    return _camera_jpeg("photo-24mp.jpg", 6000, 4000, seed=24)


def jpeg_12mp() -> Path:
    """A phone-sized photo (4000x3000): the drops of bench/ingest.py and bench/load.py."""
    return _camera_jpeg("photo-12mp.jpg", 4000, 3000, seed=12)


def _camera_jpeg(name: str, width: int, height: int, seed: int) -> Path:
    path = CACHE / name
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        image = _photo_like(width, height, seed=seed)
        exif = Image.Exif()
        exif[0x010F] = "Glowworm"
        exif[0x0110] = "Bench Camera"
        exif[0x0112] = 1
        tmp = path.with_suffix(".tmp")
        image.save(tmp, "JPEG", quality=92, subsampling="4:2:0", exif=exif)
        tmp.rename(path)
    return path


def png_20mp() -> Path:
    path = CACHE / "photo-20mp.png"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        image = _photo_like(5472, 3648, seed=20)
        tmp = path.with_suffix(".tmp")
        image.save(tmp, "PNG", compress_level=6)
        tmp.rename(path)
    return path


def heic_12mp() -> Path:
    path = CACHE / "pug.heic"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HEIC, path)
    return path


def all_inputs() -> list[tuple[str, Path]]:
    return [("24 MP JPEG", jpeg_24mp()), ("12 MP HEIC", heic_12mp()), ("20 MP PNG", png_20mp())]


if __name__ == "__main__":
    for label, path in all_inputs():
        print(label, path, path.stat().st_size)
