"""Image quality and memory measurements for the benchmark (numpy is a bench-only dependency)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

_SRGB = ImageCms.createProfile("sRGB")


def _box_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over every window x window block (valid positions only), via an integral image."""
    integral = np.pad(values, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return (
        integral[window:, window:]
        - integral[:-window, window:]
        - integral[window:, :-window]
        + integral[:-window, :-window]
    ) / (window * window)


def ssim(a: Image.Image, b: Image.Image, window: int = 7) -> float:
    """Mean SSIM of the luma of two same-size images (7x7 uniform window, as scikit-image computes it by default)."""
    if a.size != b.size:
        raise ValueError(f"sizes differ: {a.size} vs {b.size}")
    x = np.asarray(a.convert("L"), dtype=np.float64)
    y = np.asarray(b.convert("L"), dtype=np.float64)
    if min(x.shape) < window:
        window = min(x.shape)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _box_mean(x, window), _box_mean(y, window)
    # Sample (co)variances, as scikit-image does.
    n = window * window
    correction = n / (n - 1)
    vx = (_box_mean(x * x, window) - mx * mx) * correction
    vy = (_box_mean(y * y, window) - my * my) * correction
    cov = (_box_mean(x * y, window) - mx * my) * correction
    result = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(result.mean())


def upright_srgb(path: Path) -> Image.Image:
    """The whole image, full size, upright and in sRGB: the starting point of every reference."""
    with Image.open(path) as image:
        image.load()
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        if icc:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = upright.mode if upright.mode in ("RGB", "CMYK", "L") else "RGB"
            return ImageCms.profileToProfile(upright.convert(mode), source, _SRGB, outputMode="RGB")
        return upright.convert("RGB")


def reference(full: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Full-quality reference: LANCZOS straight from the full-size image, never encoded."""
    return full.resize(size, Image.Resampling.LANCZOS)


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def rss_bytes() -> tuple[int, int]:
    """(current RSS, peak RSS since the last reset_peak_rss()) of this process, from /proc."""
    current = peak = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    return current, peak


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")
