"""Re-render photos: `manage.py reprocess --all`, `--failed`, `--stuck`, `--missing`, IDS... (see --help)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import django_rq
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rq import Worker

from gallery import storage
from gallery.models import Album, Photo
from processing import jobs, sweeper
from processing.specs import THUMBNAIL, VARIANT

ONLY_CHOICES = {"thumbnails": THUMBNAIL, "variants": VARIANT}
MISSING_CHUNK = 2000  # photos per query (with their variants) when looking for missing outputs


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width if total == 0 else round(width * done / total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = (
        "Re-render photos. Select with IDS, --all, --failed, --stuck, --missing, --album or --since (several "
        "selectors narrow each other); restrict outputs with --only. By default the renders are queued for the "
        "workers and a progress bar runs until they finish; --sync renders here instead. Exits 1 if a photo failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="Photo ids")
        parser.add_argument("--all", action="store_true", help="Every photo")
        parser.add_argument("--failed", action="store_true", help="Photos whose render failed")
        parser.add_argument(
            "--stuck", action="store_true", help="Queued or processing photos with no live job (see --older-than)"
        )
        parser.add_argument(
            "--older-than", type=float, default=10, metavar="MINUTES", help="For --stuck: unchanged this long (10)"
        )
        parser.add_argument(
            "--missing",
            action="store_true",
            help="Ready photos lacking an output the spec table wants (no row, or no file); renders only those",
        )
        parser.add_argument("--album", metavar="NAME", help="Photos in the album(s) with this name")
        parser.add_argument("--since", metavar="DATE", help="Photos uploaded on or after DATE (YYYY-MM-DD[ HH:MM])")
        parser.add_argument("--only", choices=sorted(ONLY_CHOICES), help="Render only thumbnails or only variants")
        parser.add_argument("--dry-run", action="store_true", help="List what would be rendered, change nothing")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--no-wait", action="store_true", help="Queue the renders and exit at once")
        mode.add_argument("--sync", action="store_true", help="Render in this process, one photo at a time")

    def handle(self, *args, **options):
        self.planned: dict[int, list] = {}
        stages = [ONLY_CHOICES[options["only"]]] if options["only"] else None
        missing_only = options["missing"]
        photos = self.select(options, stages)
        total = len(photos)
        what = f"only {options['only']}" if options["only"] else "all outputs"
        if missing_only:
            what = f"missing {options['only'] or 'outputs'}"

        if options["dry_run"]:
            wanted = jobs.wanted_display_sizes([photo.pk for photo in photos])
            with storage.listed():
                for photo in photos:
                    specs = self.planned.get(photo.pk) or jobs.specs_for(
                        photo, stages=stages, missing_only=missing_only, wanted=wanted
                    )
                    names = ", ".join(spec.name for spec in specs)
                    self.stdout.write(f"photo {photo.pk} {photo} [{photo.status}]: would render {names}")
            self.stdout.write(f"{total} photo{'s' if total != 1 else ''} would be re-rendered ({what}).")
            return
        if not total:
            self.stdout.write("No photos match; nothing to do.")
            return
        self.stdout.write(f"Re-rendering {total} photo{'s' if total != 1 else ''} ({what}).")
        if options["sync"]:
            failed = self.render_here(photos, stages, missing_only)
        else:
            failed = self.queue_and_wait(photos, stages, missing_only, wait=not options["no_wait"])
        if failed:
            raise CommandError(f"{len(failed)} photo{'s' if len(failed) != 1 else ''} failed: {failed}")

    def select(self, options, stages) -> list[Photo]:
        selectors = [
            options["ids"],
            options["all"],
            options["failed"],
            options["stuck"],
            options["missing"],
            options["album"],
            options["since"],
        ]
        if not any(selectors):
            raise CommandError("Say which photos: IDS, --all, --failed, --stuck, --missing, --album NAME or --since.")
        photos = Photo.objects.order_by("pk").prefetch_related("variants")
        if options["ids"]:
            photos = photos.filter(pk__in=options["ids"])
            unknown = set(options["ids"]) - set(
                Photo.objects.filter(pk__in=options["ids"]).values_list("pk", flat=True)
            )
            if unknown:
                self.stderr.write(f"No photo with id {', '.join(map(str, sorted(unknown)))}.")
        if options["failed"]:
            photos = photos.filter(status=Photo.Status.FAILED)
        if options["stuck"]:
            older_than = timedelta(minutes=options["older_than"])
            ids = sweeper.stuck_photo_ids(unknown_after=older_than, dead_after=older_than)
            photos = photos.filter(pk__in=ids)
        if options["album"]:
            photos = photos.filter(pk__in=self.album_photo_ids(options["album"]))
        if options["since"]:
            photos = photos.filter(created_at__gte=self.parse_since(options["since"]))
        if options["missing"]:
            ready = photos.filter(status=Photo.Status.READY)
            # The display sizes frames need, asked once for all of them (frames answer per frame, not per photo).
            wanted = jobs.wanted_display_sizes(list(ready.values_list("pk", flat=True)))
            lacking = []
            with storage.listed():  # media in a bucket: one listing, not a request per file
                # In slices, so a library of 100,000 never holds every photo and variant row in memory at once.
                for photo in ready.iterator(chunk_size=MISSING_CHUNK):
                    specs = jobs.specs_for(photo, stages=stages, missing_only=True, wanted=wanted)
                    if specs:
                        self.planned[photo.pk] = specs  # --dry-run lists these, not looking at every file twice
                        lacking.append(photo)
            return lacking
        return list(photos)

    def album_photo_ids(self, name: str):
        albums = Album.objects.filter(name__iexact=name)
        if not albums.exists():
            raise CommandError(f"No album named {name!r}.")
        return Photo.objects.filter(albums__in=albums).values("pk")

    def parse_since(self, value: str) -> datetime:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                raise CommandError(f"--since {value!r} is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM).")
            parsed = datetime(day.year, day.month, day.day)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed

    def show_progress(self, done: int, total: int, extra: str = "", final: bool = False) -> None:
        line = f"{progress_bar(done, total)} {extra}".rstrip()
        if self.stdout.isatty():
            self.stdout.write(f"\r{line}\033[K", ending="\n" if final else "")
            self.stdout.flush()
        elif final or done != getattr(self, "_last_done", None):
            self.stdout.write(line)
        self._last_done = done

    def render_here(self, photos: list[Photo], stages, missing_only: bool) -> list[int]:
        failed, busy, total, started = [], [], len(photos), time.monotonic()
        for done, photo in enumerate(photos, start=1):
            began = time.monotonic()
            try:
                outcome = jobs.render_now(photo.pk, stages=stages, missing_only=missing_only)
            except Exception as exc:  # transient (storage, database): the photo is back in the queue
                outcome = f"error ({exc.__class__.__name__}: {exc}); queued again"
                failed.append(photo.pk)
            else:
                if outcome == "failed":
                    failed.append(photo.pk)
                    outcome = f"failed: {Photo.all_objects.get(pk=photo.pk).error}"
                elif outcome == "busy":
                    busy.append(photo.pk)
                    outcome = "skipped: a worker is rendering it"
            if self.stdout.isatty():
                self.stdout.write("\r\033[K", ending="")
            self.stdout.write(f"photo {photo.pk} {photo}: {outcome} in {time.monotonic() - began:.2f} s")
            self.show_progress(done, total, final=done == total)
        elapsed = time.monotonic() - started
        ready = total - len(failed) - len(busy)
        self.stdout.write(
            f"Done in {elapsed:.1f} s: {ready} ready, {len(failed)} failed, {len(busy)} skipped "
            f"({elapsed / max(1, total):.2f} s per photo)."
        )
        return failed

    def queue_and_wait(self, photos: list[Photo], stages, missing_only: bool, *, wait: bool) -> list[int]:
        ids = [photo.pk for photo in photos]
        outcomes = {"queued": 0, "busy": 0, "gone": 0}
        for photo_id in ids:
            outcomes[jobs.requeue(photo_id, stages=stages, missing_only=missing_only, origin=jobs.BULK)] += 1
        self.stdout.write(
            f"Queued {outcomes['queued']}; {outcomes['busy']} already queued or rendering."
            + (f" {outcomes['gone']} deleted meanwhile." if outcomes["gone"] else "")
        )
        if not wait:
            return []
        connection = django_rq.get_connection(jobs.MAINTENANCE_QUEUE)
        if Worker.count(connection=connection) == 0:
            # Not an error: a worker may be restarting, and workers that outlived a Redis restart keep working
            # without being listed again.
            self.stderr.write(
                "No worker is listed in Redis. Waiting anyway; Ctrl-C stops waiting (the photos stay queued). "
                "Start workers with `make run`, or use --sync to render here."
            )
        started = time.monotonic()
        while True:
            counts = self.status_counts(ids)
            pending = counts.get(Photo.Status.QUEUED, 0) + counts.get(Photo.Status.PROCESSING, 0)
            done = sum(counts.values()) - pending
            self.show_progress(
                done,
                sum(counts.values()),
                f"ready {counts.get(Photo.Status.READY, 0)}, failed {counts.get(Photo.Status.FAILED, 0)}",
                final=pending == 0,
            )
            if pending == 0:
                break
            time.sleep(0.5)
        failed = list(Photo.all_objects.filter(pk__in=ids, status=Photo.Status.FAILED).values_list("pk", flat=True))
        self.stdout.write(
            f"Done in {time.monotonic() - started:.1f} s: {counts.get(Photo.Status.READY, 0)} ready, "
            f"{len(failed)} failed."
        )
        for photo in Photo.all_objects.filter(pk__in=failed):
            self.stdout.write(f"  photo {photo.pk} {photo}: {photo.error}")
        return failed

    @staticmethod
    def status_counts(ids: list[int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in Photo.all_objects.filter(pk__in=ids).values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        return counts
