"""`manage.py import PATH...`: bring folders of photos into the library (gallery/importing.py does the work)."""

from __future__ import annotations

from pathlib import Path

import django_rq
import redis
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gallery.importing import Importer, default_cache_path
from glowworm import doctor
from processing import jobs


class Command(BaseCommand):
    help = (
        "Import photos from folders (recursively) or files: takes what the upload would take, by content; skips what "
        "the library holds; reads Google Takeout JSON and XMP sidecars for a date or place the file lacks. Renders go "
        "to the bulk queue. A second run over the same tree is quick and adds nothing. Exits 1 if a photo failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Folders or files to import")
        parser.add_argument("--user", metavar="NAME", help="Whose photos they are (default: the first staff account)")
        parser.add_argument("--album", metavar="NAME", help="Also put every photo in this album (made if needed)")
        parser.add_argument(
            "--album-per-folder", action="store_true", help="Put each folder's photos in an album named after it"
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; store nothing")
        parser.add_argument(
            "--move", action="store_true", help="Delete each source file once the library holds it (never otherwise)"
        )

    def handle(self, *args, **options):
        roots = [Path(path).absolute() for path in options["paths"]]
        missing = [str(root) for root in roots if not root.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        if options["move"] and options["dry_run"]:
            raise CommandError("--move and --dry-run do not go together.")
        if not options["dry_run"]:
            doctor.use_private_redis_if_running()  # beside `make run`, whose Redis only its children are told of
            self.check_queue()
        importer = Importer(
            user=self.owner(options["user"]),
            dry_run=options["dry_run"],
            move=options["move"],
            album_name=(options["album"] or "").strip() or None,
            album_per_folder=options["album_per_folder"],
            cache_path=default_cache_path(),
            progress_stream=self.stderr._out,
        )
        report = importer.run(roots)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was stored.")
        self.stdout.write(report.summary())
        for line in report.reasons():
            self.stdout.write(line)
        if report.failed:
            raise CommandError(f"{report.failed} failed; run the import again to retry them.")

    def check_queue(self) -> None:
        """Renders are queued as photos are stored: without Redis each one would log an error (the sweeper would
        queue them later), so say it once, before anything is stored."""
        try:
            django_rq.get_connection(jobs.BULK_QUEUE).ping()
        except redis.RedisError as exc:
            raise CommandError(
                f"Redis does not answer ({exc}); nothing was imported. Start it (`make run` does) or set REDIS_URL."
            ) from None

    def owner(self, name: str | None):
        users = get_user_model().objects.filter(is_active=True)
        if name:
            user = users.filter(username=name).first()
            if user is None:
                raise CommandError(f"No active account named {name!r}.")
            return user
        user = users.filter(is_staff=True).order_by("pk").first()
        if user is None:
            raise CommandError("There is no staff account yet: create one, or name the owner with --user.")
        return user
