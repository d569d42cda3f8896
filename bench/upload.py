"""Upload latency: the answer time for a 12 MB JPEG (median of 20) and upload-to-thumbnail time in a browser.

Starts a private `manage.py serve` (valkey, Daphne, workers) in a temporary directory, like `make run` does,
so the numbers are the real stack on this machine. Run: `.venv/bin/python -m bench.upload`.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from bench.stack import free_port, post_image, unique_copy

ROOT = Path(__file__).resolve().parent.parent
RUNS = 20


def photo_like_jpeg(target_bytes: int = 12_000_000) -> bytes:
    """A 24 MP image with gradients, shapes and fine noise: compresses like a real photo, not like flat colour."""
    width, height = 6000, 4000
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(base)
    rng = secrets.SystemRandom(1)
    for _ in range(400):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(20, 400)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    base = base.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(base, noise, 0.18)
    for quality in (92, 95, 97, 98):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() >= target_bytes:
            break
    return buffer.getvalue()


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    port = free_port()
    env = dict(
        os.environ,
        GLOWWORM_VAR_DIR=str(workdir),
        PORT=str(port),
        SECRET_KEY="bench-" + secrets.token_hex(16),
        DJANGO_SUPERUSER_USERNAME="bench",
        DJANGO_SUPERUSER_PASSWORD="bench-password-123",
        DJANGO_SUPERUSER_EMAIL="bench@example.com",
    )
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if json.load(response)["workers"] >= 1:
                        break
            except OSError:
                time.sleep(0.2)
        token = subprocess.run(
            [sys.executable, "manage.py", "api_token", "bench"], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip

        jpeg = photo_like_jpeg()
        print(f"input: 6000x4000 JPEG, {len(jpeg) / 1e6:.1f} MB")
        timings, thumbnail_times = [], []
        for index in range(RUNS):
            copy = unique_copy(jpeg, index)
            code, answer, started, answered = post_image(port, token, copy, f"bench-{index}.jpg", timeout=60)
            timings.append((answered - started) * 1000)
            assert code == 201, answer
            # Poll for the grid thumbnail, as a rough server-side "thumbnail ready" time (the browser figure is below).
            while True:
                request = urllib.request.Request(
                    f"{base}/api/images/{answer['id']}/", headers={"Authorization": f"Bearer {token}"}
                )
                with urllib.request.urlopen(request) as status_response:
                    status = json.load(status_response)
                if any(v["name"] == "thumb" for v in status["variants"]) or status["status"] == "failed":
                    thumbnail_times.append((time.perf_counter() - started) * 1000)
                    break
                time.sleep(0.02)
            # Let the rest of this photo's variants finish, so uploads do not queue behind each other.
            while status["status"] not in ("ready", "failed"):
                time.sleep(0.1)
                with urllib.request.urlopen(request) as status_response:
                    status = json.load(status_response)
        median = statistics.median(timings)
        print(f"upload answer (POST /api/images/, 12 MB, loopback), median of {RUNS}: {median:.0f} ms "
              f"(min {min(timings):.0f}, max {max(timings):.0f})")  # fmt: skip
        print(f"upload start to thumbnail variant stored (API poll), median of {RUNS}: "
              f"{statistics.median(thumbnail_times):.0f} ms")  # fmt: skip
        browser_timing(base, jpeg)
    finally:
        server.terminate()
        server.wait(30)


def browser_timing(base: str, jpeg: bytes) -> None:
    """Time from choosing a file on the page to its thumbnail image being loaded, in Debian's chromium."""
    if not Path("/usr/bin/chromium").exists():
        print("browser: skipped (no /usr/bin/chromium; `bin/system-deps chromium` installs it)")
        return
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(base_url=base)
        page.goto("/login/")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", "bench-password-123")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.wait_for_timeout(500)  # websocket connects
        for index in range(5):
            path = Path(folder) / f"browser-{index}.jpg"
            path.write_bytes(unique_copy(jpeg, 1000 + index))
            known = set(page.eval_on_selector_all("#grid [data-photo-id]", "els => els.map(e => e.id)"))
            started = time.perf_counter()
            page.set_input_files("input[type=file]", str(path))
            page.wait_for_function(
                """known => [...document.querySelectorAll('#grid [data-photo-id]')].some(
                       el => !known.includes(el.id) && [...el.querySelectorAll('img.tile-image')].some(
                           img => img.complete && img.naturalWidth > 0))""",
                arg=list(known),
                timeout=120_000,
            )
            results.append((time.perf_counter() - started) * 1000)
            page.wait_for_timeout(3000)  # let the variants of this one finish
        browser.close()
    print(f"browser: choose file to thumbnail visible (12 MB JPEG), median of {len(results)}: "
          f"{statistics.median(results):.0f} ms (all: {', '.join(f'{t:.0f}' for t in results)})")  # fmt: skip


if __name__ == "__main__":
    main()
