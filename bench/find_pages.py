"""Server time of the library page with search, filters, the date scrubber and "on this day" (issue 15's target:
a filtered library page and the scrubber's counts under 150 ms with 100,000 photos).

Builds the same throwaway SQLite library as bench.library_page (photo rows over twelve years, five variants each),
fills the columns the renderer would (library_month, taken_date), stars every tenth photo, then renders pages
through Django's test client, interleaved. Every full library page includes the scrubber's counts.

Usage: python -m bench.find_pages [--photos N] [--rounds N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time

from bench.library_page import VARIANTS, build, set_up_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="gw-bench-find-")
    set_up_django(directory, STATIC_ROOT=f"{directory}/static")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gallery.models import Favorite, Photo

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages name the hashed files, as in production
    began = time.perf_counter()
    build(args.photos)
    with connection.cursor() as cursor:  # bulk_create skips save(), which keeps these
        cursor.execute(
            "UPDATE gallery_photo SET library_month = date(COALESCE(taken_at, created_at), 'start of month'),"
            " taken_date = date(taken_at)"
        )
    user = get_user_model().objects.get(username="bench")
    ids = list(Photo.objects.values_list("pk", flat=True)[::10])
    Favorite.objects.bulk_create([Favorite(user=user, photo_id=pk) for pk in ids], batch_size=5000)
    print(f"built {args.photos} photos + {args.photos * len(VARIANTS)} variants in {time.perf_counter() - began:.1f} s")

    client = Client()
    client.login(username="bench", password="bench")
    home = client.get("/").content.decode()
    jump = re.findall(r'<li><a href="(/\?before=[^"]+)"', home)[len(re.findall(r'<li><a href="/\?before=', home)) // 2]
    pages = {
        "library, first page": "/",
        "search q=img_0420": "/?q=img_0420",
        "favourites": "/?favorite=1",
        "portrait": "/?orientation=portrait",
        "a year, taken_after+before": "/?taken_after=2019-01-01&taken_before=2019-12-31",
        "scrubber jump (middle month)": jump.replace("&amp;", "&"),
    }
    results = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, url in pages.items():
            began = time.perf_counter()
            response = client.get(url)
            results[name].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        timings = sorted(results[name])
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        html = response.content.decode()
        tiles = html.count('<figure class="tile ')
        years = html.count("scrubber-months")
        print(
            f"{name:30} median {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  {len(queries)} queries  "
            f"{tiles} tiles  {years} scrubber years"
        )


if __name__ == "__main__":
    main()
