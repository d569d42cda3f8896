"""The table of outputs rendered for every photo. Pure: no ORM, no settings, no Redis."""

from dataclasses import dataclass

from processing import formats

THUMBNAIL = "thumbnail"
VARIANT = "variant"
STAGES = (THUMBNAIL, VARIANT)


@dataclass(frozen=True)
class Spec:
    name: str
    width: int  # bounding box: the output fits inside, never upscaled
    height: int
    format: str  # Pillow format name: WEBP or JPEG
    quality: int
    stage: str  # THUMBNAIL outputs are what the user waits for and render first

    @property
    def extension(self) -> str:
        return formats.extension(self.format)


# Sizes and qualities: see docs/rendering.md (measured with `python -m bench.quality`, checked by eye).
# Grid tiles are squares of 160-250 CSS px filled with object-fit: cover, so the short side of a 3:2 photo must
# reach ~250 px at 1x and ~500 px at 2x: boxes of 400 and 800 give 267 and 533.
# 1x at q80 (SSIM ~0.97, 8-20 KB): below that, rock and fur texture smears visibly at 1x.
# 2x at q75: shown at two device pixels per CSS pixel, its artefacts are half the size; saves ~20% over q80.
GRID = Spec("thumb", 400, 400, "WEBP", 80, THUMBNAIL)
GRID_2X = Spec("thumb2x", 800, 800, "WEBP", 75, THUMBNAIL)
# Lightbox: fills a 1440p or a 1080p@2x screen; q80 keeps SSIM >= 0.96 on real photos at ~100-330 KB.
PREVIEW = Spec("preview", 2048, 2048, "WEBP", 80, VARIANT)
# Photo frames show every pixel full screen for minutes at a time: JPEG q85 (the previous product's setting, SSIM
# ~0.98 on real photos) or WebP q85 when GLOWWORM_DISPLAY_FORMAT=WEBP.
DISPLAY_QUALITY = {"JPEG": 85, "WEBP": 85}


def display_spec(width: int, height: int, fmt: str = "JPEG") -> Spec:
    return Spec(f"display-{width}x{height}", width, height, fmt, DISPLAY_QUALITY[fmt], VARIANT)


def build_specs(display_sizes: list[tuple[int, int]], display_format: str = "JPEG") -> tuple[Spec, ...]:
    """All outputs, thumbnails first, then larger ones in ascending size."""
    specs = [GRID, GRID_2X, PREVIEW] + [display_spec(w, h, display_format) for w, h in display_sizes]
    seen = set()
    unique = []
    for spec in specs:
        if spec.name not in seen:
            seen.add(spec.name)
            unique.append(spec)
    return tuple(sorted(unique, key=lambda s: (STAGES.index(s.stage), s.width * s.height)))
