"""Find files no row references and rows whose files are gone: `manage.py cleanup_media [--dry-run]`, under
MEDIA_ROOT and, when one is configured, in the bucket (each row says where its file lives)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from gallery import storage
from gallery.models import Photo, Variant
from processing import jobs

# Only these trees hold files named by rows; anything else under MEDIA_ROOT or in the bucket is not ours to judge.
MANAGED_DIRS = ("originals", "variants")


class Command(BaseCommand):
    help = (
        "Delete files under MEDIA_ROOT/originals and /variants (and the same folders in the bucket, when "
        "AWS_STORAGE_BUCKET_NAME is set) that no row references, drop variant rows whose "
        "file is gone (and queue those outputs again), and mark photos whose original is gone as failed. "
        "A referenced file is never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report only; change nothing")
        parser.add_argument(
            "--min-age",
            type=float,
            default=60,
            metavar="MINUTES",
            help="Leave unreferenced files younger than this alone: a render writes its file just before its row (60)",
        )

    def handle(self, *args, dry_run: bool, min_age: float, **options):
        root = Path(settings.MEDIA_ROOT)
        verb = "Would delete" if dry_run else "Deleted"
        orphans, young = self.unreferenced_files(root, min_age_seconds=min_age * 60)
        freed = 0
        for location, relative, size in orphans:
            if not dry_run:
                if self.is_referenced(relative, location):  # a row may have appeared since the scan
                    continue
                storage.delete_file(relative, location)
            freed += size
            where = " from the bucket" if location == storage.S3 else ""
            self.stdout.write(f"{verb} unreferenced file {relative}{where} ({filesizeformat(size)})")
        if not dry_run:
            self.remove_empty_dirs(root)

        lost_variants = self.variants_without_files()
        photos_to_rerender = sorted({variant.photo_id for variant in lost_variants})
        for variant in lost_variants:
            self.stdout.write(
                f"{'Would drop' if dry_run else 'Dropped'} variant row {variant} (file {variant.file} gone)"
            )
        lost_originals = self.photos_without_originals()
        for photo in lost_originals:
            self.stdout.write(f"{'Would mark' if dry_run else 'Marked'} photo {photo.pk} {photo} failed: original gone")

        if not dry_run:
            Variant.objects.filter(pk__in=[variant.pk for variant in lost_variants]).delete()
            lost_ids = {photo.pk for photo in lost_originals}
            Photo.all_objects.filter(pk__in=lost_ids).update(
                status=Photo.Status.FAILED, error="The original file is missing.", updated_at=timezone.now()
            )
            for photo_id in photos_to_rerender:
                if photo_id not in lost_ids:
                    jobs.requeue(photo_id, missing_only=True, origin=jobs.BULK)

        self.stdout.write(
            f"{verb} {len(orphans)} unreferenced file{'s' if len(orphans) != 1 else ''} "
            f"({filesizeformat(freed)}); left {young} younger than {min_age:g} minutes. "
            f"{len(lost_variants)} variant row{'s' if len(lost_variants) != 1 else ''} without a file"
            f"{' (re-rendering their photos)' if lost_variants and not dry_run else ''}; "
            f"{len(lost_originals)} photo{'s' if len(lost_originals) != 1 else ''} without an original."
        )

    def unreferenced_files(self, root: Path, *, min_age_seconds: float) -> tuple[list[tuple[str, str, int]], int]:
        referenced = set(Photo.all_objects.values_list("original_location", "original"))
        referenced.update(Variant.objects.values_list("location", "file"))
        cutoff = time.time() - min_age_seconds
        orphans, young = [], 0
        for location in storage.locations_in_use():
            for directory in MANAGED_DIRS:
                for stored in storage.list_files(directory, location=location):
                    if (location, stored.name) in referenced:
                        continue
                    if stored.modified > cutoff:
                        young += 1
                    else:
                        orphans.append((location, stored.name, stored.size))
        return sorted(orphans), young

    @staticmethod
    def is_referenced(relative: str, location: str) -> bool:
        return (
            Photo.all_objects.filter(original=relative, original_location=location).exists()
            or Variant.objects.filter(file=relative, location=location).exists()
        )

    @staticmethod
    def remove_empty_dirs(root: Path) -> None:
        for directory in MANAGED_DIRS:
            for dirpath, dirnames, filenames in os.walk(root / directory, topdown=False):
                if Path(dirpath) != root / directory and not dirnames and not filenames:
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass  # something arrived meanwhile

    @staticmethod
    def variants_without_files() -> list[Variant]:
        return [
            variant
            for variant in Variant.objects.select_related("photo").order_by("photo_id", "name").iterator()
            if not storage.exists(variant.file, location=variant.location)
        ]

    @staticmethod
    def photos_without_originals() -> list[Photo]:
        return [
            photo
            for photo in Photo.all_objects.exclude(status=Photo.Status.FAILED, error="The original file is missing.")
            .order_by("pk")
            .iterator()
            if not storage.exists(photo.original, location=photo.original_location)
        ]
