"""Move stored files between MEDIA_ROOT and the bucket: `manage.py media_migrate --to s3|local [--dry-run]`.

Each file is copied, the copy verified (its size, and for an original its SHA-256 against the row's), then the row
switched to the new location (a conditional UPDATE: a file a render replaced meanwhile is left to the render), and
only then the source deleted. The app serves from wherever each row says while this runs, so the library stays up.
Stopped at any point it can simply be run again: it picks up the rows still in the old place, and a copy made before
a stop is made again (a source left after its row switched is an orphan for cleanup_media).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from gallery import storage
from gallery.models import Location, Photo, Variant

BAR_WIDTH = 30


@dataclass
class Move:
    kind: str  # "original" or "variant"
    pk: int
    name: str
    size: int  # as the row records it
    sha256: str = ""  # originals only


class Command(BaseCommand):
    help = (
        "Move originals and variants to the bucket (--to s3) or back under MEDIA_ROOT (--to local), verifying each "
        "copy before its row switches; resumable, and never deletes a source before its copy is verified."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, choices=[Location.S3, Location.LOCAL], help="Where files go")
        parser.add_argument("--dry-run", action="store_true", help="Say what would move; change nothing")

    def handle(self, *args, to: str, dry_run: bool, **options):
        if not storage.bucket_configured():
            raise CommandError(
                "No bucket is configured: set AWS_STORAGE_BUCKET_NAME (and AWS_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY) for both directions."
            )
        source = Location.LOCAL if to == Location.S3 else Location.S3
        moves = self.pending(source)
        total_bytes = sum(move.size for move in moves)
        where = "the bucket" if to == Location.S3 else "MEDIA_ROOT"
        if dry_run:
            self.stdout.write(
                f"Would move {len(moves)} file{'s' if len(moves) != 1 else ''} ({filesizeformat(total_bytes)}) to "
                f"{where}: {sum(m.kind == 'original' for m in moves)} originals, "
                f"{sum(m.kind == 'variant' for m in moves)} variants."
            )
            return
        moved = skipped = done_bytes = 0
        failures: list[str] = []
        for number, move in enumerate(moves, 1):
            try:
                outcome = self.move(move, source=source, target=to)
            except storage.StorageUnavailable as exc:
                self.progress(number - 1, len(moves), done_bytes, total_bytes, end=True)
                raise CommandError(f"Stopped: {exc} Run the command again to carry on where it stopped.") from None
            except (OSError, ValueError, MismatchError) as exc:
                outcome = "failed"
                failures.append(f"{move.kind} {move.name}: {exc}")
            if outcome == "moved":
                moved += 1
            elif outcome == "skipped":
                skipped += 1
            done_bytes += move.size
            self.progress(number, len(moves), done_bytes, total_bytes, end=number == len(moves))
        for failure in failures:
            self.stderr.write(f"Not moved: {failure}")
        listed = " (listed above; their rows still name the source)" if failures else ""
        self.stdout.write(
            f"Moved {moved} file{'s' if moved != 1 else ''} to {where}; {skipped} changed meanwhile and were left to "
            f"their render; {len(failures)} not moved{listed}."
        )
        if failures:
            raise CommandError(f"{len(failures)} file(s) could not be moved; run doctor, then this command again.")

    @staticmethod
    def pending(source: str) -> list[Move]:
        originals = Photo.all_objects.filter(original_location=source).order_by("pk")
        variants = Variant.objects.filter(location=source).order_by("pk")
        return [
            *(Move("original", pk, name, size, sha) for pk, name, size, sha in
              originals.values_list("pk", "original", "file_size", "sha256")),
            *(Move("variant", pk, name, size) for pk, name, size in variants.values_list("pk", "file", "bytes")),
        ]  # fmt: skip

    @staticmethod
    def move(move: Move, *, source: str, target: str) -> str:
        """Copy, verify, switch the row, delete the source: "moved", or "skipped" when the row changed meanwhile."""
        source_size = storage.size(move.name, location=source)
        storage.copy_file(move.name, source=source, target=target)
        copied_size = storage.size(move.name, location=target)
        if copied_size != source_size or copied_size != move.size:
            storage.delete_file(move.name, target)
            raise MismatchError(f"the copy has {copied_size} bytes, the source {source_size}, the row {move.size}")
        if move.sha256 and storage.sha256_of(move.name, location=target) != move.sha256:
            storage.delete_file(move.name, target)
            raise MismatchError("the copy's SHA-256 differs from the one recorded at upload")
        if move.kind == "original":
            switched = Photo.all_objects.filter(pk=move.pk, original=move.name, original_location=source).update(
                original_location=target
            )
        else:
            switched = Variant.objects.filter(pk=move.pk, file=move.name, location=source).update(location=target)
        if not switched:
            storage.delete_file(move.name, target)  # replaced by a render (or gone) meanwhile: the copy is no one's
            return "skipped"
        storage.delete_file(move.name, source)
        return "moved"

    def progress(self, done: int, total: int, done_bytes: int, total_bytes: int, *, end: bool = False) -> None:
        """A bar on a terminal, redrawn in place; elsewhere (logs, tests) a line at each tenth and at the end."""
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        line = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} files, "
            f"{filesizeformat(done_bytes)} of {filesizeformat(total_bytes)}"
        )
        if self.stdout.isatty():
            self.stdout.write("\r" + line, ending="\n" if end else "")
            self.stdout.flush()
        elif end or (total >= 10 and done % max(1, total // 10) == 0):
            self.stdout.write(line)


class MismatchError(Exception):
    """The copy is not the file: it was removed again, and the row still names the source."""
