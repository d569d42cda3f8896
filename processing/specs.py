"""The table of outputs rendered for every photo. Pure: no ORM, no settings, no Redis."""

from dataclasses import dataclass

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
        return {"WEBP": "webp", "JPEG": "jpg"}[self.format]


GRID = Spec("thumb", 400, 400, "WEBP", 80, THUMBNAIL)
GRID_2X = Spec("thumb2x", 800, 800, "WEBP", 75, THUMBNAIL)
PREVIEW = Spec("preview", 2048, 2048, "WEBP", 82, VARIANT)


def display_spec(width: int, height: int, fmt: str = "JPEG") -> Spec:
    return Spec(f"display-{width}x{height}", width, height, fmt, 85 if fmt == "JPEG" else 82, VARIANT)


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
