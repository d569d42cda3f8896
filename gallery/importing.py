"""Bringing a folder tree of photos into the library: `manage.py import` (gallery/management/commands/import.py).

Files are taken by content, as uploads are (the same allow-list and limits, through services.ingest_upload), never by
extension, and their renders go to the `bulk` queue, below people's uploads. The source is only read (and deleted
with move=True, once the library holds the photo).

Every file ends in one of four outcomes, each with a reason:
- new: stored now;
- already: the library holds it (by SHA-256, the trash included), or an earlier file of this run was the same;
- skipped: not a photo we take (not an image, damaged, too large, empty, unreadable, a symlink loop); running
  again changes nothing;
- failed: could not be stored for a reason a retry may fix (database, storage); a second run tries again.

A cache (GLOWWORM_VAR_DIR/import-cache.sqlite3) keyed by path, size and modification time remembers each file's
SHA-256 or why it was skipped, so a second run over the same tree hashes and decodes nothing.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from gallery import albums, sidecars
from gallery.files import clean_file_name
from gallery.models import CAPTION_MAX_LENGTH, Album, Photo
from gallery.services import ingest_upload, sha256_of
from gallery.uploads import UploadRejected, max_upload_bytes
from processing import imaging, jobs

NEW, ALREADY, SKIPPED, FAILED = "new", "already", "skipped", "failed"
OUTCOMES = (NEW, ALREADY, SKIPPED, FAILED)

NOT_AN_IMAGE, DAMAGED, TOO_LARGE, EMPTY = "not an image", "damaged", "too large", "empty"
UNREADABLE, SYMLINK_LOOP, BROKEN_LINK = "unreadable", "symlink loop", "broken link"
LIVE_PHOTO_VIDEO, AAE_EDITS = "Live Photo video", ".AAE edit file"
IN_LIBRARY, IN_TRASH, SAME_IN_RUN = "in the library", "in the trash", "same as another file of this import"
# Skipped for good: remembered by the cache. Unreadable files are not (a chmod fixes them, and leaves mtime alone).
LASTING_SKIPS = {NOT_AN_IMAGE, DAMAGED, TOO_LARGE, EMPTY, LIVE_PHOTO_VIDEO, AAE_EDITS}
# By the kind of imaging.ImageRejected or uploads.UploadRejected (the same names).
REJECTION_REASONS = {
    "not-accepted": NOT_AN_IMAGE,
    "damaged": DAMAGED,
    "too-many-pixels": TOO_LARGE,
    "too-large": TOO_LARGE,
    "empty": EMPTY,
}
VIDEO_EXTENSIONS = {".mov", ".mp4", ".m4v"}
CHUNK = 200  # files per cache commit and per database look-up of cached hashes


@dataclass
class Found:
    """A file the walk found: its path, the names in its folder (for sidecars), its album folder name."""

    path: Path
    folder_names: frozenset[str]
    folder: str


@dataclass
class Report:
    counts: dict[str, Counter] = field(default_factory=lambda: {outcome: Counter() for outcome in OUTCOMES})
    sidecars_used: int = 0

    def add(self, outcome: str, reason: str) -> None:
        self.counts[outcome][reason] += 1

    def total(self, outcome: str) -> int:
        return sum(self.counts[outcome].values())

    @property
    def failed(self) -> int:
        return self.total(FAILED)

    def summary(self) -> str:
        return (
            f"{self.total(NEW)} new, {self.total(ALREADY)} already in the library, {self.total(SKIPPED)} skipped, "
            f"{self.total(FAILED)} failed"
        )

    def reasons(self) -> list[str]:
        lines = []
        for outcome, label in ((ALREADY, "already"), (SKIPPED, "skipped"), (FAILED, "failed")):
            if self.counts[outcome]:
                parts = ", ".join(f"{count} {reason}" for reason, count in self.counts[outcome].most_common())
                lines.append(f"  {label}: {parts}")
        notes = []
        if self.counts[SKIPPED][LIVE_PHOTO_VIDEO]:
            notes.append("Live Photo videos are not imported (the still photo is).")
        if self.counts[SKIPPED][AAE_EDITS]:
            notes.append(".AAE files hold Apple Photos edits, which are not applied (the original photo is imported).")
        if self.sidecars_used:
            notes.append(f"{self.sidecars_used} photos took their date or place from a sidecar file.")
        return lines + [f"  note: {note}" for note in notes]


# --- walking --------------------------------------------------------------------------------------------------


def walk(roots: list[Path], report: Report) -> Iterator[Found]:
    """Every file under roots (following symlinks, never into a loop), sidecars left out; what cannot be walked is
    reported as skipped."""
    visited: set[tuple[int, int]] = set()
    for root in roots:
        root_stat = os.stat(root)
        if stat.S_ISDIR(root_stat.st_mode):
            yield from _walk_folder(root, root.name or str(root), report, visited, ancestors=frozenset())
        else:
            yield Found(root, frozenset(os.listdir(root.parent)), root.parent.name)


def _walk_folder(folder: Path, album: str, report: Report, visited: set, ancestors: frozenset) -> Iterator[Found]:
    folder_stat = os.stat(folder)
    identity = (folder_stat.st_dev, folder_stat.st_ino)
    if identity in ancestors:
        report.add(SKIPPED, SYMLINK_LOOP)
        return
    if identity in visited:
        return  # reached again through a link: walked already
    visited.add(identity)
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        report.add(SKIPPED, UNREADABLE)
        return
    names = frozenset(entry.name for entry in entries)
    inside = ancestors | {identity}
    for entry in entries:
        path = Path(entry.path)
        try:
            entry_stat = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                report.add(SKIPPED, SYMLINK_LOOP)
            elif entry.is_symlink():
                report.add(SKIPPED, BROKEN_LINK)
            else:
                report.add(SKIPPED, UNREADABLE)
            continue
        if stat.S_ISDIR(entry_stat.st_mode):
            yield from _walk_folder(path, entry.name, report, visited, inside)
        elif sidecars.is_sidecar_name(entry.name):
            continue  # read with the photo it belongs to
        else:
            yield Found(path, names, album)


# --- the cache ------------------------------------------------------------------------------------------------


class ImportCache:
    """path -> (size, mtime, sha256 or the reason it was skipped), in a small SQLite file of its own."""

    def __init__(self, path: Path | None):
        self.connection = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path)
            self.connection.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                "sha256 TEXT, skipped TEXT)"
            )

    def get(self, path: Path, size: int, mtime_ns: int) -> tuple[str, str] | None:
        if self.connection is None:
            return None
        row = self.connection.execute(
            "SELECT sha256, skipped FROM files WHERE path = ? AND size = ? AND mtime_ns = ?",
            (str(path), size, mtime_ns),
        ).fetchone()
        return (row[0] or "", row[1] or "") if row else None

    def put(self, path: Path, size: int, mtime_ns: int, *, sha256: str = "", skipped: str = "") -> None:
        if self.connection is not None:
            self.connection.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", (str(path), size, mtime_ns, sha256, skipped)
            )

    def commit(self) -> None:
        if self.connection is not None:
            self.connection.commit()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.commit()
            self.connection.close()


def default_cache_path() -> Path:
    return Path(settings.VAR_DIR) / "import-cache.sqlite3"


# --- progress -------------------------------------------------------------------------------------------------


class Progress:
    """A bar with the rate and time left, redrawn in place on a terminal; elsewhere a plain line every few
    seconds."""

    def __init__(self, total: int, stream: TextIO, *, plain_every: float = 10.0):
        self.total, self.stream, self.done = total, stream, 0
        self.started = self.last = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.plain_every = plain_every

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0
        width = 30
        filled = width if not self.total else round(width * self.done / self.total)
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  {rate:.1f} files/s  "
            f"ETA {int(left) // 60}:{int(left) % 60:02d}"
        )

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.tty and (now - self.last >= 0.1 or self.done == self.total):
            self.stream.write("\r" + self.line())
            self.stream.flush()
            self.last = now
        elif not self.tty and now - self.last >= self.plain_every:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self.last = now

    def finish(self) -> None:
        if self.tty and self.total:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()


# --- one file -------------------------------------------------------------------------------------------------


class LocalCopy:
    """A copy of a source file in the shape services.ingest_upload takes (an UploadedFile with a temporary path):
    storing moves the file it is given into the library, and the source must stay as it is. `sha256` is the source's,
    hashed already for the duplicate check, so ingest_upload does not read the copy again to hash it."""

    def __init__(self, source: Path, size: int, name: str, sha256: str):
        self.size, self.name, self.sha256 = size, name, sha256
        handle, self.path = tempfile.mkstemp(prefix="glowworm-import-", dir=settings.FILE_UPLOAD_TEMP_DIR)
        os.close(handle)
        try:
            shutil.copyfile(source, self.path)
        except BaseException:
            self.discard()
            raise

    def temporary_file_path(self) -> str:
        return self.path

    def discard(self) -> None:
        """Remove the copy if storing left it (a duplicate, a refusal, an error)."""
        Path(self.path).unlink(missing_ok=True)


def _companion_reason(found: Found) -> str | None:
    """Live Photo videos (a video beside a photo of the same name) and Apple's .AAE edit files."""
    suffix = found.path.suffix.lower()
    if suffix == ".aae":
        return AAE_EDITS
    if suffix in VIDEO_EXTENSIONS:
        stem = found.path.stem.lower()
        if any(Path(name).stem.lower() == stem and name != found.path.name for name in found.folder_names):
            return LIVE_PHOTO_VIDEO
    return None


def _embedded_xmp_caption(image) -> str:
    """dc:description of the XMP packet inside the file (JPEG, WebP and HEIF keep it as `xmp`, PNG as an iTXt
    chunk), or ""."""
    packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if not packet:
        return ""
    try:
        return sidecars.read_xmp_packet(packet.encode() if isinstance(packet, str) else packet).description
    except ValueError:
        return ""


def sidecar_details(found: Found, max_pixels: int) -> tuple[dict, bool]:
    """Photo fields from the file's Takeout or XMP sidecar, for what the file itself lacks (a date, a position, a
    caption); and whether a sidecar gave a date or a position."""
    sources = []
    for locate, read in (
        (sidecars.takeout_sidecar, sidecars.read_takeout),
        (sidecars.xmp_sidecar, sidecars.read_xmp),
    ):
        path = locate(found.path, found.folder_names)
        if path is not None:
            try:
                sources.append(read(path))
            except (OSError, ValueError):
                continue
    if not sources:
        return {}, False
    image = imaging.open_image(found.path, max_pixels)
    try:
        own = imaging.metadata_from_image(image)
        own_caption = imaging.caption_from_image(image) or _embedded_xmp_caption(image)
    finally:
        image.close()
    # The renderer does not read captions (a re-render must not undo an edit), so the file's own is stored here.
    details: dict = {"caption": own_caption[:CAPTION_MAX_LENGTH]} if own_caption else {}
    for data in sources:
        if data.file_name and "original_name" not in details:
            details["original_name"] = clean_file_name(data.file_name)
        if own.taken_at is None and data.taken_at is not None and "taken_at" not in details:
            taken = data.taken_at
            if timezone.is_naive(taken):
                details["taken_date"] = taken.date()
                taken = timezone.make_aware(taken)
            elif data.taken_at_offset:
                details["taken_date"] = taken.date()  # on the camera's clock, as the renderer stores it
            else:
                details["taken_date"] = timezone.localtime(taken).date()
            details["taken_at"] = taken
            details["taken_at_offset"] = data.taken_at_offset
        if own.gps_latitude is None and data.latitude is not None and "gps_latitude" not in details:
            details["gps_latitude"], details["gps_longitude"] = data.latitude, data.longitude
        if data.description and "caption" not in details:
            details["caption"] = data.description[:CAPTION_MAX_LENGTH]
    used = any(name in details for name in ("taken_at", "gps_latitude"))
    return details, used


@dataclass
class Importer:
    user: object
    dry_run: bool = False
    move: bool = False
    album_name: str | None = None
    album_per_folder: bool = False
    cache_path: Path | None = None
    progress_stream: TextIO = sys.stderr
    report: Report = field(default_factory=Report)

    def __post_init__(self):
        self.seen: dict[str, tuple] = {}  # sha256 -> (outcome, reason, photo id) of the run's first such file
        self.album_photos: dict[str, list[int]] = {}
        self.max_pixels = settings.GLOWWORM_MAX_PIXELS
        self.max_bytes = max_upload_bytes()

    def run(self, roots: list[Path]) -> Report:
        found = list(walk(roots, self.report))
        cache = ImportCache(None if self.dry_run else self.cache_path)
        progress = Progress(len(found), self.progress_stream)
        try:
            for start in range(0, len(found), CHUNK):
                chunk = found[start : start + CHUNK]
                self._run_chunk(chunk, cache, progress)
                cache.commit()
        finally:
            progress.finish()
            cache.close()
        if not self.dry_run:
            self._fill_albums()
        return self.report

    def _run_chunk(self, chunk: list[Found], cache: ImportCache, progress: Progress) -> None:
        known = {}
        for item in chunk:
            try:
                item_stat = os.stat(item.path)
            except OSError:
                item_stat = None
            cached = cache.get(item.path, item_stat.st_size, item_stat.st_mtime_ns) if item_stat else None
            known[item.path] = (item_stat, cached)
        hashes = [cached[0] for _, cached in known.values() if cached and cached[0]]
        held = {
            sha: (IN_TRASH if trashed else IN_LIBRARY, pk)
            for sha, pk, trashed in Photo.all_objects.filter(sha256__in=hashes).values_list(
                "sha256", "pk", "trashed_at"
            )
        }
        for item in chunk:
            item_stat, cached = known[item.path]
            outcome, reason, photo_id = self._one(item, item_stat, cached, held, cache)
            self.report.add(outcome, reason)
            if photo_id is not None and outcome in (NEW, ALREADY):
                self._remember_album(item, photo_id)
                if self.move and not self.dry_run:
                    item.path.unlink(missing_ok=True)
            progress.step()

    def _one(self, item: Found, item_stat, cached, held: dict, cache: ImportCache) -> tuple[str, str, int | None]:
        if item_stat is None:
            return SKIPPED, UNREADABLE, None
        if not stat.S_ISREG(item_stat.st_mode):
            return SKIPPED, UNREADABLE, None  # a socket, a device, a pipe (which would block a read)
        size, mtime = item_stat.st_size, item_stat.st_mtime_ns
        if cached and cached[1]:
            return SKIPPED, cached[1], None
        if companion := _companion_reason(item):
            cache.put(item.path, size, mtime, skipped=companion)
            return SKIPPED, companion, None
        if size == 0:
            cache.put(item.path, size, mtime, skipped=EMPTY)
            return SKIPPED, EMPTY, None
        if size > self.max_bytes:
            cache.put(item.path, size, mtime, skipped=TOO_LARGE)
            return SKIPPED, TOO_LARGE, None
        if cached:
            sha256 = cached[0]
        else:
            try:
                sha256 = sha256_of(str(item.path))
            except OSError:
                return SKIPPED, UNREADABLE, None
        if sha256 in self.seen:  # the same content as an earlier file of this run: as that one went
            first_outcome, first_reason, photo_id = self.seen[sha256]
            if first_outcome == SKIPPED:
                return SKIPPED, first_reason, None
            cache.put(item.path, size, mtime, sha256=sha256)
            return ALREADY, SAME_IN_RUN, photo_id
        outcome = self._store(item, sha256, size, mtime, cached=bool(cached), held=held, cache=cache)
        if outcome[0] != FAILED:  # a copy of a failed file tries again
            self.seen[sha256] = outcome
        return outcome

    def _store(
        self, item: Found, sha256: str, size: int, mtime: int, *, cached: bool, held: dict, cache: ImportCache
    ) -> tuple[str, str, int | None]:
        if sha256 in held:
            return ALREADY, *held[sha256]
        if not cached:
            existing = Photo.all_objects.filter(sha256=sha256).values_list("pk", "trashed_at").first()
            if existing:
                cache.put(item.path, size, mtime, sha256=sha256)
                return ALREADY, IN_TRASH if existing[1] else IN_LIBRARY, existing[0]
        try:
            if self.dry_run:
                imaging.probe(item.path, max_pixels=self.max_pixels)  # storing probes it (ingest_upload)
            details, used = sidecar_details(item, self.max_pixels)
        except imaging.ImageRejected as exc:
            reason = REJECTION_REASONS.get(exc.kind, NOT_AN_IMAGE)
            cache.put(item.path, size, mtime, skipped=reason)
            return SKIPPED, reason, None
        except PermissionError:
            return SKIPPED, UNREADABLE, None
        if self.dry_run:
            return NEW, "would be stored", None
        try:
            # Takeout's title is the name the photo had when it was uploaded to Google (before `(1)` was added).
            name = details.pop("original_name", item.path.name)
            copy = LocalCopy(item.path, size, name, sha256)
            try:
                result = ingest_upload(upload=copy, user=self.user, origin=jobs.BULK, details=details)
            finally:
                copy.discard()
        except UploadRejected as exc:
            reason = REJECTION_REASONS.get(exc.kind, NOT_AN_IMAGE)
            cache.put(item.path, size, mtime, skipped=reason)
            return SKIPPED, reason, None
        except (DatabaseError, OSError) as exc:
            return FAILED, _failure_reason(exc), None
        cache.put(item.path, size, mtime, sha256=sha256)
        if not result.created:
            return ALREADY, IN_LIBRARY, result.photo.pk
        self.report.sidecars_used += used
        return NEW, "stored", result.photo.pk

    def _remember_album(self, item: Found, photo_id: int) -> None:
        names = []
        if self.album_name:
            names.append(self.album_name)
        if self.album_per_folder:
            names.append(item.folder)
        for name in names:
            self.album_photos.setdefault(name, []).append(photo_id)

    def _fill_albums(self) -> None:
        for name, photo_ids in self.album_photos.items():
            album = albums.name_taken(name) or albums.create_album(name=name, owner=self.user)
            albums.add_photos(album=Album.objects.get(pk=album.pk), photo_ids=photo_ids)


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, DatabaseError):
        return "database error"
    return f"storage error ({exc.strerror or exc.__class__.__name__})"
