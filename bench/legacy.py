"""The previous product's output set and the naive way it made it: the yardstick of `make bench` and of
bench/ingest.py ("all ready" per photo against this set for one such photo). Needs Pillow only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps

from processing import imaging
from processing.specs import THUMBNAIL, VARIANT, Spec

# JPEG q85 thumbnails in 150/300/600 boxes and two display variants.
LEGACY = (
    Spec("legacy-150", 150, 150, "JPEG", 85, THUMBNAIL),
    Spec("legacy-300", 300, 300, "JPEG", 85, THUMBNAIL),
    Spec("legacy-600", 600, 600, "JPEG", 85, THUMBNAIL),
    Spec("legacy-1080x1920", 1080, 1920, "JPEG", 85, VARIANT),
    Spec("legacy-2160x3840", 2160, 3840, "JPEG", 85, VARIANT),
)


def naive_pillow(path: Path, specs: tuple[Spec, ...]) -> Iterator[tuple[Spec, bytes]]:
    """(a) What the previous product did: open the original for every output, LANCZOS from full size."""
    for spec in specs:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
        size = imaging.fit_inside(upright.size, (spec.width, spec.height))
        out = upright.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        out.save(buffer, "JPEG", quality=spec.quality)
        yield spec, buffer.getvalue()
