"""Renders per second per core, for sizing workers (docs/scaling.md): one 12 MP JPEG's default outputs (thumb,
thumb2x, preview) rendered from local disk, then as a worker on another host does it with media in a bucket
(stream the original from moto_server into a temporary file, render, PUT each variant).

Usage: python -m bench.s3_render [--rounds N]   (moto_server comes with requirements-dev.txt)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from PIL import Image

from processing import imaging
from processing.specs import build_specs

ROOT = Path(__file__).resolve().parent.parent


def make_photo(path: Path) -> None:
    """A 4000x3000 JPEG with fine detail (a real photo's compression, not a flat gradient's)."""
    base = Image.open(ROOT / "tests/data/formats/hopper.jpg").convert("RGB").resize((4000, 3000), Image.BICUBIC)
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
    Image.blend(base, noise, 0.25).save(path, quality=90)


def render(path, specs) -> list:
    with imaging.Source(path, max_pixels=150_000_000, rotation=0) as source:
        return list(source.render(specs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    rounds = parser.parse_args().rounds
    specs = build_specs([], "JPEG")
    with tempfile.TemporaryDirectory() as directory:
        photo = Path(directory) / "12mp.jpg"
        make_photo(photo)
        render(photo, specs)  # warm up
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            render(photo, specs)
        local_wall, local_cpu = (time.perf_counter() - wall) / rounds, (time.process_time() - cpu) / rounds

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = boto3.client(
                "s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="bench",
                aws_secret_access_key="bench", region_name="us-east-1",
            )  # fmt: skip
            for _ in range(100):
                try:
                    client.create_bucket(Bucket="bench-render")
                    break
                except Exception:  # noqa: BLE001 - not listening yet
                    time.sleep(0.1)
            client.upload_file(str(photo), "bench-render", "originals/photo.jpg")
            wall = time.perf_counter()
            for number in range(rounds):
                with tempfile.NamedTemporaryFile(suffix=".jpg") as original:
                    client.download_fileobj("bench-render", "originals/photo.jpg", original)
                    original.flush()
                    for output in render(original.name, specs):
                        client.put_object(Bucket="bench-render", Key=f"variants/{number}-{output.spec.name}",
                                          Body=output.data)  # fmt: skip
            bucket_wall = (time.perf_counter() - wall) / rounds
        finally:
            server.terminate()
            server.wait(10)
        size = photo.stat().st_size / 1e6
    outputs = ", ".join(spec.name for spec in specs)
    print(f"12 MP JPEG ({size:.1f} MB), outputs {outputs}; load average {os.getloadavg()[0]:.1f}")
    print(f"from local disk: {local_wall * 1000:.0f} ms wall, {local_cpu * 1000:.0f} ms CPU per photo: "
          f"{1 / local_cpu:.1f} renders/s per core")  # fmt: skip
    print(f"through moto_server (download, render, PUT each output): {bucket_wall * 1000:.0f} ms wall per photo "
          f"(+{(bucket_wall - local_wall) * 1000:.0f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
