"""Read-side helpers for the gallery pages: keyset pages grouped by month, zip streams, duplicate groups."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from gallery import storage
from gallery.files import clean_file_name
from gallery.models import Photo, Variant, month_of

PAGE_SIZE = 120
GRID_VARIANTS = ("thumb", "thumb2x")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last photo's sort date and id (ties broken by id)."""

    sort_at: datetime
    pk: int

    def encode(self) -> str:
        # Integer microseconds: exact, unlike a float timestamp, and safe in a URL.
        return f"{(self.sort_at - EPOCH) // timedelta(microseconds=1)}.{self.pk}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        try:
            micros, pk = (value or "").split(".")
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (ValueError, OverflowError):
            return None


@dataclass
class MonthGroup:
    month: date
    photos: list[Photo] = field(default_factory=list)


@dataclass
class LibraryPage:
    photos: list[Photo]
    cursor: Cursor | None  # where this page starts (None: the newest photos)
    next_cursor: Cursor | None
    groups: list[MonthGroup]

    @property
    def continues_month(self) -> bool:
        """True when the first month on this page already started on the page before."""
        return bool(self.cursor and self.groups and self.groups[0].month == month_of(self.cursor.sort_at))


def grid_photos(queryset: QuerySet[Photo]) -> QuerySet[Photo]:
    """Photos in library order with just the variants a grid tile needs: one query for photos, one for variants."""
    variants = Prefetch("variants", queryset=Variant.objects.filter(name__in=GRID_VARIANTS))
    return queryset.library_order().prefetch_related(variants)


def library_page(queryset: QuerySet[Photo], *, cursor: str | None, page_size: int = PAGE_SIZE) -> LibraryPage:
    start = Cursor.decode(cursor)
    photos = grid_photos(queryset)
    if start:
        photos = photos.filter(Q(sort_at__lt=start.sort_at) | Q(sort_at=start.sort_at, pk__lt=start.pk))
    rows = _in_order(photos, list(photos.values_list("pk", flat=True)[: page_size + 1]))
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = Cursor(rows[-1].sort_at, rows[-1].pk) if has_more else None
    return LibraryPage(photos=rows, cursor=start, next_cursor=next_cursor, groups=_by_month(rows))


def _in_order(photos: QuerySet[Photo], ids: list[int]) -> list[Photo]:
    """The page's rows, chosen first by id alone and then read whole: where the order cannot come from an index
    (an album's 10,000 photos, a filtered set), the database sorts narrow rows, not 10,000 whole photos with their
    placeholders (MariaDB did that in a temporary table)."""
    by_id = photos.order_by().in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def newer_page(queryset: QuerySet[Photo], *, cursor: str | None, page_size: int = PAGE_SIZE) -> LibraryPage:
    """The photos just newer than `cursor`, in library order: what goes above a page that was opened at a cursor
    (a jump from the date scrubber, a shared URL), when the user scrolls up. `next_cursor` is where the next newer
    page ends (None: these reach the newest photo)."""
    end = Cursor.decode(cursor)
    if end is None:
        return LibraryPage(photos=[], cursor=None, next_cursor=None, groups=[])
    photos = grid_photos(queryset).filter(Q(sort_at__gt=end.sort_at) | Q(sort_at=end.sort_at, pk__gt=end.pk))
    rows = list(photos.order_by("sort_at", "id")[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size][::-1]
    next_cursor = Cursor(rows[0].sort_at, rows[0].pk) if has_more else None
    return LibraryPage(photos=rows, cursor=None, next_cursor=next_cursor, groups=_by_month(rows))


def _by_month(rows: list[Photo]) -> list[MonthGroup]:
    groups: list[MonthGroup] = []
    for photo in rows:
        month = month_of(photo.sort_at)
        if not groups or groups[-1].month != month:
            groups.append(MonthGroup(month))
        groups[-1].photos.append(photo)
    return groups


# --- the date scrubber and "on this day" ------------------------------------------------------------------------


@dataclass
class ScrubberMonth:
    month: date
    count: int

    @property
    def cursor(self) -> Cursor:
        """Where a page starting at this month's newest photo begins: the first instant of the next month."""
        following = (self.month.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Cursor(timezone.make_aware(datetime.combine(following, time.min)), 0)


@dataclass
class ScrubberYear:
    year: int
    months: list[ScrubberMonth]

    @property
    def count(self) -> int:
        return sum(month.count for month in self.months)


def scrubber(queryset: QuerySet[Photo]) -> list[ScrubberYear]:
    """Years and months, newest first, with how many of these photos the grid files under each (one GROUP BY on
    Photo.library_month, which also works on filtered sets)."""
    rows = (
        queryset.order_by()
        .filter(library_month__isnull=False)
        .values_list("library_month")
        .annotate(count=Count("id"))
        .order_by("-library_month")
    )
    years: list[ScrubberYear] = []
    for month, count in rows:
        if not years or years[-1].year != month.year:
            years.append(ScrubberYear(month.year, []))
        years[-1].months.append(ScrubberMonth(month, count))
    return years


def on_this_day(queryset: QuerySet[Photo], today: date, limit: int = 24) -> list[Photo]:
    """Photos taken on today's calendar day in earlier years (the camera's own date), newest year first, up to a
    century back. The days are named (an IN on the indexed taken_date): a month-and-day condition reads every row."""
    days = []
    for year in range(today.year - 1, today.year - 101, -1):
        try:
            days.append(today.replace(year=year))
        except ValueError:  # 29 February in a year without one
            continue
    photos = grid_photos(queryset.ready()).filter(taken_date__in=days)
    return list(photos.order_by("-taken_date", "-taken_at", "-id")[:limit])


def neighbours(queryset: QuerySet[Photo], photo: Photo) -> tuple[Photo | None, Photo | None]:
    """The newer and the older photo next to `photo` in library order (two small indexed queries)."""
    sort_at = photo.taken_at or photo.created_at
    ordered = queryset.with_sort_date()
    newer = (
        ordered.filter(Q(sort_at__gt=sort_at) | Q(sort_at=sort_at, pk__gt=photo.pk)).order_by("sort_at", "id").first()
    )
    older = (
        ordered.filter(Q(sort_at__lt=sort_at) | Q(sort_at=sort_at, pk__lt=photo.pk)).order_by("-sort_at", "-id").first()
    )
    return newer, older


# --- zip downloads ---------------------------------------------------------------------------------------------


class _ChunkSink(io.RawIOBase):
    """A write-only, unseekable file that keeps what was written until drained: zipfile then streams entries
    with data descriptors, and memory stays at about one read chunk whatever the archive size."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


@dataclass
class ZipMember:
    path: str  # under MEDIA_ROOT or in the bucket
    name: str  # inside the archive
    modified: datetime
    location: str = storage.LOCAL


def zip_members(photos: Iterable[Photo]) -> list[ZipMember]:
    """Archive names from the original file names, made unique ("name (2).jpg")."""
    used: set[str] = set()
    members = []
    for photo in photos:
        extension = photo.original.rsplit(".", 1)[-1]
        # Sanitised here too: original_name can be edited in the admin, and an archive must never name a path.
        name = clean_file_name(photo.original_name) or f"photo-{photo.pk}.{extension}"
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        candidate, number = name, 2
        while candidate.lower() in used:
            candidate = f"{stem} ({number}){dot}{suffix}"
            number += 1
        used.add(candidate.lower())
        members.append(
            ZipMember(photo.original, candidate, photo.taken_at or photo.created_at, photo.original_location)
        )
    return members


def zip_chunks(members: list[ZipMember], read_size: int = 256 * 1024) -> Iterator[bytes]:
    """Yield a zip archive of the members piece by piece. Entries are stored, not deflated: photos are
    already compressed, and storing keeps the CPU free."""
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for member in members:
            try:
                source = storage.open_file(member.path, location=member.location)
            except (FileNotFoundError, ValueError):
                continue  # deleted meanwhile: leave it out rather than break the archive
            modified = max(member.modified, datetime(1980, 1, 1, tzinfo=UTC))
            info = zipfile.ZipInfo(member.name, date_time=modified.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with source, archive.open(info, "w", force_zip64=True) as target:
                for block in iter(lambda: source.read(read_size), b""):  # noqa: B023 - used at once
                    target.write(block)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()
