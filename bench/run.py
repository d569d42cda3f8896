"""`make bench`: our engine against naive Pillow and pyvips, on the same inputs, in this process.

Times are medians of interleaved rounds (the machine is shared, so every method sees the same noise). Peak RSS is
measured in a fresh subprocess per input and method (a high-water mark cannot be shared between methods), after
imports and a warm-up, relative to that idle process.

Usage: python -m bench.run [--rounds N]
"""

from __future__ import annotations

import argparse
import base64
import functools
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyvips
from PIL import Image

from bench import inputs, metrics
from bench.legacy import LEGACY, naive_pillow
from processing import imaging
from processing.specs import THUMBNAIL, VARIANT, Spec, build_specs

ROOT = Path(__file__).resolve().parent.parent
MAX_PIXELS = 150_000_000
DEFAULT_DISPLAY_SIZES = [(1080, 1920), (1920, 1080), (2160, 3840), (3840, 2160)]

FULL = build_specs(DEFAULT_DISPLAY_SIZES, "JPEG")

# pyvips' operation cache would turn every run after the first into a lookup.
pyvips.cache_set_max(0)
pyvips.cache_set_max_mem(0)
pyvips.cache_set_max_files(0)

Produced = Iterator[tuple[Spec, bytes]]


def vips_thumbnail(path: Path, specs: tuple[Spec, ...]) -> Produced:
    """(b) libvips' thumbnail per output: shrink-on-load, autorotate, strip metadata."""
    if path.suffix.lower() in (".heic", ".heif") and not vips_reads_heic():
        raise Unavailable("pyvips-binary has no HEVC decoder (libde265 is left out for patent reasons)")
    for spec in specs:
        image = pyvips.Image.thumbnail(str(path), spec.width, height=spec.height, size="down")
        if spec.format == "JPEG":
            data = image.jpegsave_buffer(Q=spec.quality, keep="none")
        else:
            data = image.webpsave_buffer(Q=spec.quality, keep="none")
        yield spec, data


class Unavailable(Exception):
    """This method cannot read this input."""


def vips_reads_heic() -> bool:
    try:
        pyvips.Image.new_from_file(str(ROOT / "tests" / "data" / "formats" / "zpug.heic")).avg()
    except pyvips.Error:
        return False
    return True


def ours(path: Path, specs: tuple[Spec, ...]) -> Produced:
    """(c) processing.imaging: one decode, each output derived from the previous one."""
    with imaging.Source(path, max_pixels=MAX_PIXELS) as source:
        for output in source.render(specs):
            yield output.spec, output.data


class Sharp:
    """sharp (libvips for Node; bench/node/, installed by `make bench` with npm ci) in one long-lived node process,
    asked one job at a time: Node's start-up is never timed, and its times sit in the same rounds as ours."""

    SCRIPT = ROOT / "bench" / "node" / "sharp.mjs"
    _process: subprocess.Popen | None = None
    versions: dict = {}

    @classmethod
    def ask(cls, request: dict) -> dict:
        if cls._process is None:
            if not (ROOT / "bench" / "node" / "node_modules" / "sharp").exists():
                raise Unavailable("sharp is not installed (make bench runs npm ci in bench/node/)")
            cls._process = subprocess.Popen(
                ["node", str(cls.SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
            )
            cls.versions = json.loads(cls._process.stdout.readline())
        cls._process.stdin.write(json.dumps(request) + "\n")
        answer = json.loads(cls._process.stdout.readline())
        if "error" in answer:
            raise Unavailable(f"sharp: {answer['error'].strip().splitlines()[-1]}")  # one line for the table
        return answer


def sharp_request(path: Path, specs: tuple[Spec, ...], mode: str) -> dict:
    request = {
        "path": str(path),
        "mode": mode,
        "specs": [{"name": s.name, "width": s.width, "height": s.height, "format": s.format, "quality": s.quality}
                  for s in specs],
    }  # fmt: skip
    if mode == "decode-once":
        largest = max(specs, key=lambda spec: spec.width * spec.height)
        request["decode"] = [largest.width, largest.height]
    return request


@functools.lru_cache(maxsize=8)  # Pillow reads a whole PNG to find its EXIF: once per input is enough
def immich_shape(path: Path) -> tuple[Spec, ...]:
    """Immich's thumbnail job for this photo: a preview whose short edge is 1440 px (JPEG q80) and a thumbnail
    whose short edge is 250 px (WebP q80), never enlarged; as boxes our specs (and sharp's fit: inside) understand."""
    with Image.open(path) as image:
        width, height = image.size
        if image.getexif().get(ORIENTATION) in (5, 6, 7, 8):  # stored on its side
            width, height = height, width

    def short_edge(edge: int) -> tuple[int, int]:
        scale = min(1.0, edge / min(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))

    return (
        Spec("immich-thumbnail", *short_edge(250), "WEBP", 80, THUMBNAIL),
        Spec("immich-preview", *short_edge(1440), "JPEG", 80, VARIANT),
    )


Specs = tuple[Spec, ...] | Callable[[Path], tuple[Spec, ...]]

METHODS: dict[str, tuple[str, Callable[[Path, tuple[Spec, ...]], Produced], Specs]] = {
    "a": ("(a) naive Pillow, legacy set", naive_pillow, LEGACY),
    "b": ("(b) pyvips thumbnail, legacy set", vips_thumbnail, LEGACY),
    "c": ("(c) ours, legacy set", ours, LEGACY),
    "d": ("(d) sharp, legacy set", "per-output", LEGACY),
    "full": ("ours, full spec table", ours, FULL),
    "immich-sharp": ("sharp, Immich's job shape", "decode-once", immich_shape),
    "immich-ours": ("ours, Immich's job shape", ours, immich_shape),
}
ORIENTATION = 0x0112
SHARP_RATIOS = {"c": "d", "immich-ours": "immich-sharp"}  # ours / sharp, same specs, same rounds


def specs_of(method: str, path: Path) -> tuple[Spec, ...]:
    specs = METHODS[method][2]
    return specs(path) if callable(specs) else specs


def timed(method: str, path: Path) -> tuple[dict[str, float], list[tuple[Spec, bytes]]]:
    """Wall and CPU seconds (all threads of this process), in total and to the first output; the outputs."""
    _, function, _ = METHODS[method]
    specs = specs_of(method, path)
    if isinstance(function, str):  # sharp, timed in its own process
        answer = Sharp.ask(sharp_request(path, specs, function))
        by_name = {spec.name: spec for spec in specs}
        outputs = [(by_name[o["name"]], base64.b64decode(o["data"])) for o in answer["outputs"]]
        return {key: answer[key] / 1000 for key in ("wall", "cpu", "first_wall", "first_cpu")}, outputs
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    first: dict[str, float] = {}
    outputs = []
    for spec, data in function(path, specs):
        if not first:
            first = {"first_wall": time.perf_counter() - start_wall, "first_cpu": time.process_time() - start_cpu}
        outputs.append((spec, data))
    timing = {"wall": time.perf_counter() - start_wall, "cpu": time.process_time() - start_cpu, **first}
    return timing, outputs


def min_ssim(path: Path, outputs: list[tuple[Spec, bytes]], full: Image.Image) -> float:
    scores = []
    for spec, data in outputs:
        image = metrics.decoded(data)
        expected = imaging.fit_inside(full.size, (spec.width, spec.height))
        if image.size != expected:
            # a method that rounds a side differently by a pixel: compare at our size
            image = image.resize(expected, Image.Resampling.LANCZOS)
        scores.append(metrics.ssim(image, metrics.reference(full, expected)))
    return min(scores)


def min_pixel_ssim(path: Path, specs: tuple[Spec, ...], full: Image.Image) -> float:
    """Our resampling alone: the pixels handed to the encoder against the LANCZOS reference."""
    with imaging.Source(path, max_pixels=MAX_PIXELS) as source:
        outputs = list(source.render(specs, keep_pixels=True))
    return min(metrics.ssim(o.pixels, metrics.reference(full, o.pixels.size)) for o in outputs)


def child(method: str, path: Path) -> None:
    """Run in a fresh process: warm up on a tiny file, reset the peak, run once, print the peak above idle."""
    timed(method, ROOT / "tests" / "data" / "formats" / "hopper.jpg")
    gc.collect()
    metrics.reset_peak_rss()
    idle, _ = metrics.rss_bytes()
    timed(method, path)
    _, peak = metrics.rss_bytes()
    print(json.dumps({"idle": idle, "peak": peak}))


def peak_rss_above_idle(method: str, path: Path) -> int:
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--child", method, str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    return numbers["peak"] - numbers["idle"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return

    print(
        f"pyvips {pyvips.__version__} (libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}), ", end=""
    )
    print(f"Pillow {Image.__version__}, {os.cpu_count()} CPUs, {args.rounds} interleaved rounds", flush=True)
    try:
        Sharp.ask(sharp_request(inputs.jpeg_24mp(), LEGACY[:1], "per-output"))  # start it, and say which
        print(f"sharp {Sharp.versions['sharp']} (libvips {Sharp.versions['vips']}), Node {Sharp.versions['node']}")
    except (Unavailable, OSError) as exc:
        print(f"sharp: not measured ({exc})")
    rows = []
    for label, path in inputs.all_inputs():
        with Image.open(path) as image:
            width, height = image.size
        decoded_bytes = width * height * 3
        runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
        last_outputs: dict[str, list] = {}
        unavailable: dict[str, str] = {}
        order = list(METHODS)
        for round_number in range(args.rounds):
            shift = round_number % len(order)
            for method in order[shift:] + order[:shift]:
                gc.collect()
                try:
                    timing, outputs = timed(method, path)
                except Unavailable as exc:
                    unavailable[method] = str(exc)
                    continue
                runs[method].append(timing)
                last_outputs[method] = outputs
        full = metrics.upright_srgb(path)

        def median(method: str, key: str, runs: dict = runs) -> float:
            return statistics.median(run[key] for run in runs[method]) * 1000

        for method in METHODS:
            row = {"input": f"{label} ({width}x{height})", "method": METHODS[method][0], "key": method}
            if method in unavailable:
                rows.append({**row, "unavailable": unavailable[method]})
                continue
            row.update({key: median(method, key) for key in ("wall", "cpu", "first_wall", "first_cpu")})
            row["wall_spread"] = [
                min(r["wall"] for r in runs[method]) * 1000,
                max(r["wall"] for r in runs[method]) * 1000,
            ]
            if method == "c":
                for other in ("a", "b"):
                    if other not in unavailable:
                        row[f"c/{other}"] = [
                            median("c", "wall") / median(other, "wall"),
                            median("c", "cpu") / median(other, "cpu"),
                        ]
            row["rss"] = None if isinstance(METHODS[method][1], str) else peak_rss_above_idle(method, path)
            row["decoded"] = decoded_bytes
            row["ssim"] = min_ssim(path, last_outputs[method], full)
            if method in ("c", "full", "immich-ours"):
                row["pixel_ssim"] = min_pixel_ssim(path, specs_of(method, path), full)
            if method in SHARP_RATIOS and SHARP_RATIOS[method] not in unavailable:
                sharp = SHARP_RATIOS[method]
                row["ours/sharp"] = [
                    median(method, "wall") / median(sharp, "wall"),
                    median(method, "cpu") / median(sharp, "cpu"),
                ]
            rows.append(row)
            print(f"  measured {label}: {METHODS[method][0]}", file=sys.stderr, flush=True)
        del full
    print()
    print(
        "| input | method | median wall ms (min-max) | median CPU ms | c/a wall (CPU) | c/b wall (CPU) "
        "| ours/sharp wall (CPU) | first output wall (CPU) ms | peak RSS above idle MB (x decoded RGB) "
        "| min SSIM vs LANCZOS: output | before encoding |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "unavailable" in row:
            print(f"| {row['input']} | {row['method']} | n/a: {row['unavailable']} | | | | | | | | |")
            continue

        def ratio(key: str, row: dict = row) -> str:
            return f"{row[key][0]:.2f} ({row[key][1]:.2f})" if key in row else ""

        pixel_ssim = f"{row['pixel_ssim']:.4f}" if "pixel_ssim" in row else ""
        rss = f"{row['rss'] / 1e6:.0f} ({row['rss'] / row['decoded']:.2f}x)" if row["rss"] is not None else "(node)"
        print(
            f"| {row['input']} | {row['method']} | {row['wall']:.0f} ({row['wall_spread'][0]:.0f}-"
            f"{row['wall_spread'][1]:.0f}) | {row['cpu']:.0f} | {ratio('c/a')} | {ratio('c/b')} "
            f"| {ratio('ours/sharp')} | {row['first_wall']:.0f} ({row['first_cpu']:.0f}) | {rss} "
            f"| {row['ssim']:.4f} | {pixel_ssim} |"
        )
    (inputs.CACHE / "results.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
