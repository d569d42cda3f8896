"""Server time of the library's first page with 10,000 photos (target: under 100 ms).

Builds a throwaway SQLite database under a temporary directory with 10,000 photo rows spread over twelve years
(a third without a date taken) and their five variant rows each, then renders pages through Django's test client
(the whole request: middleware, session, queries, template; no network). Reports median and 95th percentile
of interleaved rounds, and the queries per page.

Usage: python -m bench.library_page [--photos N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (("thumb", 400, 267), ("thumb2x", 800, 533), ("preview", 2048, 1365), ("display-1920x1080", 1620, 1080),
            ("display-3840x2160", 3240, 2160))  # fmt: skip


def build(photo_count: int) -> None:
    from django.contrib.auth import get_user_model

    from gallery.models import Album, AlbumPhoto, Photo, Variant, month_of

    rng = random.Random(4)
    start = datetime(2014, 1, 1, tzinfo=UTC)
    photos = []
    for number in range(photo_count):
        created = start + timedelta(seconds=rng.randrange(12 * 365 * 86400))
        taken = None if number % 3 == 0 else created - timedelta(days=rng.randrange(30))
        photos.append(
            Photo(
                sha256=f"{number:064x}",
                original=f"originals/{number}.jpg",
                original_name=f"IMG_{number:05d}.jpg",
                format="JPEG",
                file_size=4_000_000,
                width=6000,
                height=4000,
                status=Photo.Status.READY,
                taken_at=taken,
                created_at=created,
                library_at=taken or created,  # as Photo.save() keeps them; bulk_create does not call it
                library_month=month_of(taken or created),
                phash=f"{rng.getrandbits(64):016x}",
                placeholder="data:image/webp;base64," + "A" * 120,
            )  # fmt: skip
        )
    Photo.objects.bulk_create(photos, batch_size=2000)
    ids = list(Photo.objects.values_list("pk", flat=True))
    Variant.objects.bulk_create(
        [
            Variant(
                photo_id=pk, name=name, file=f"variants/{pk}-{name}.webp", width=w, height=h, format="WEBP", bytes=9
            )
            for pk in ids
            for name, w, h in VARIANTS
        ],
        batch_size=5000,
    )
    album = Album.objects.create(name="Half of everything")
    AlbumPhoto.objects.bulk_create([AlbumPhoto(album=album, photo_id=pk) for pk in ids[::2]], batch_size=5000)
    get_user_model().objects.create_user("bench", password="bench")


def measure(client, url: str, rounds: int, **headers) -> list[float]:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = client.get(url, **headers)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return timings


def set_up_django(directory: str, **settings: str) -> None:
    """Django on a fresh SQLite database in `directory`, for a bench that calls views through the test client."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="glowworm.settings",
        SECRET_KEY="bench-only",
        DATABASE_URL=f"sqlite:///{directory}/bench.sqlite3",
        GLOWWORM_VAR_DIR=directory,
        ALLOWED_HOSTS="testserver",
        **settings,
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    set_up_django(tempfile.mkdtemp(prefix="gw-bench-library-"))
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    build(args.photos)
    print(f"built {args.photos} photos + {args.photos * len(VARIANTS)} variants in {time.perf_counter() - began:.1f} s")

    from gallery.models import Album

    client = Client()
    client.login(username="bench", password="bench")
    first = client.get("/")
    import re

    next_url = re.search(r'href="(/\?before=[^"]+)"', first.content.decode()).group(1)
    album_url = Album.objects.get().get_absolute_url()
    last_url = next_url
    while match := re.search(
        r'href="(/\?before=[^"]+)"', client.get(last_url, HTTP_HX_REQUEST="true").content.decode()
    ):
        last_url = match.group(1)
    pages = {
        "library, first page": ("/", {}),
        "library, next page (HTMX)": (next_url, {"HTTP_HX_REQUEST": "true"}),
        "library, last page (HTMX)": (last_url, {"HTTP_HX_REQUEST": "true"}),
        "album, first page": (album_url, {}),
    }
    results = {name: [] for name in pages}
    for _ in range(args.rounds):  # interleaved, so every page sees the same machine noise
        for name, (url, headers) in pages.items():
            results[name] += measure(client, url, 1, **headers)
    for name, (url, headers) in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        timings = sorted(results[name])
        p95 = timings[int(len(timings) * 0.95) - 1]
        tiles = response.content.decode().count('class="tile ')
        print(
            f"{name:28} median {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  "
            f"{len(queries)} queries  {tiles} tiles  {len(response.content) // 1024} KiB"
        )


if __name__ == "__main__":
    main()
