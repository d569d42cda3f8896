"""Bytes and SSIM against the unencoded pixels, per encoder quality, for the sizes in processing/specs.py.

The numbers behind the qualities chosen in docs/rendering.md. Writes side-by-side crops to var/bench/quality/ so
the choice can be checked by eye too.

Usage: python -m bench.quality
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from bench import inputs, metrics
from processing import imaging
from processing.specs import THUMBNAIL, Spec

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [
    ("waterfall (1800x1200 JPEG)", ROOT / "tests" / "data" / "photos" / "landscape_orientation_1.jpg"),
    ("pug (iPhone HEIC)", ROOT / "tests" / "data" / "formats" / "pug.heic"),
    ("grainy 24 MP", None),
]
SIZES = [("thumb", 400, "WEBP"), ("thumb2x", 800, "WEBP"), ("preview", 2048, "WEBP"), ("display", 1920, "JPEG")]
QUALITIES = [60, 70, 75, 80, 85, 90]


def pixels(path: Path, edge: int) -> Image.Image:
    spec = Spec("probe", edge, edge, "WEBP", 100, THUMBNAIL)
    with imaging.Source(path, max_pixels=150_000_000) as source:
        return next(iter(source.render([spec], keep_pixels=True))).pixels


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    spec = Spec("probe", image.width, image.height, fmt, quality, THUMBNAIL)
    return imaging._encode(image, spec)


def main() -> None:
    out_dir = inputs.CACHE / "quality"
    out_dir.mkdir(parents=True, exist_ok=True)
    print("| photo | output | " + " | ".join(f"q{q}" for q in QUALITIES) + " |")
    print("|---|---|" + "---|" * len(QUALITIES))
    for label, path in SAMPLES:
        path = path or inputs.jpeg_24mp()
        for name, edge, fmt in SIZES:
            image = pixels(path, edge)
            cells = []
            crops = []
            for quality in QUALITIES:
                data = encode(image, fmt, quality)
                decoded = metrics.decoded(data)
                cells.append(f"{metrics.ssim(decoded, image):.3f} / {len(data) / 1024:.0f} KB")
                box = (image.width // 3, image.height // 3, image.width // 3 + 200, image.height // 3 + 150)
                crops.append(decoded.crop(box))
            print(f"| {label} | {name} {fmt} {image.width}x{image.height} | " + " | ".join(cells) + " |")
            sheet = Image.new("RGB", (200 * len(crops), 150), "white")
            for index, crop in enumerate(crops):
                sheet.paste(crop, (200 * index, 0))
            slug = label.split()[0]
            sheet.save(out_dir / f"{slug}-{name}.png")
    print(f"\nCrops (q{', q'.join(map(str, QUALITIES))} left to right) in {out_dir}")


if __name__ == "__main__":
    main()
