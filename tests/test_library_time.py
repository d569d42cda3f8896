"""The date scrubber's counts, jumping to a month, scrolling up from there, and "on this day", against a seeded
library with known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gallery import library
from gallery.models import Photo
from gallery.search import PhotoFilter
from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    """31 photos over three years, in a time zone where UTC midnight is the evening before."""
    settings.TIME_ZONE = "America/New_York"
    timezone.activate("America/New_York")
    photos = []
    for day in range(1, 11):
        photos.append(make_photo_row(taken_at=aware(2024, 3, day, 12)))  # 10 in March 2024
    for day in range(1, 6):
        photos.append(make_photo_row(taken_at=aware(2024, 1, day, 12), format="PNG"))  # 5 in January 2024
    for day in range(1, 13):
        photos.append(make_photo_row(taken_at=aware(2023, 12, day, 12)))  # 12 in December 2023
    # Taken 1 March 2022 at 01:00 UTC: 28 February in New York, where the grid files it.
    photos.append(make_photo_row(taken_at=datetime(2022, 3, 1, 1, tzinfo=UTC)))
    # No date taken: filed under the upload's month.
    for _ in range(3):
        photos.append(make_photo_row(taken_at=None, created_at=aware(2021, 7, 4, 9)))
    yield photos
    timezone.deactivate()


def months_of(years):
    return [(month.month.isoformat()[:7], month.count) for year in years for month in year.months]


def test_the_scrubber_counts_what_the_grid_files_under_each_month(seeded):
    years = library.scrubber(Photo.objects.all())
    assert months_of(years) == [("2024-03", 10), ("2024-01", 5), ("2023-12", 12), ("2022-02", 1), ("2021-07", 3)]
    assert [(year.year, year.count) for year in years] == [(2024, 15), (2023, 12), (2022, 1), (2021, 3)]
    # The same months the grid's headings show, page after page.
    headings, cursor = [], None
    while True:
        page = library.library_page(Photo.objects.all(), cursor=cursor, page_size=7)
        for group in page.groups:
            if not headings or headings[-1][0] != group.month:
                headings.append([group.month, 0])
            headings[-1][1] += len(group.photos)
        if not page.next_cursor:
            break
        cursor = page.next_cursor.encode()
    assert [(month.isoformat()[:7], count) for month, count in headings] == months_of(years)


def test_the_scrubber_works_with_filters_and_costs_one_query(seeded):
    photos = PhotoFilter.from_query({"format": "png"}).apply(Photo.objects.all(), user=None)
    with CaptureQueriesContext(connection) as queries:
        years = library.scrubber(photos)
    assert months_of(years) == [("2024-01", 5)]
    assert len(queries) == 1


def test_a_jump_opens_the_month_at_its_newest_photo_and_scrolling_up_reaches_the_newest(seeded):
    december = next(m for year in library.scrubber(Photo.objects.all()) for m in year.months if m.month.month == 12)
    page = library.library_page(Photo.objects.all(), cursor=december.cursor.encode(), page_size=4)
    assert [photo.taken_at.day for photo in page.photos] == [12, 11, 10, 9]
    assert page.groups[0].month == date(2023, 12, 1) and not page.continues_month

    above = []
    cursor = december.cursor.encode()
    while cursor:
        newer = library.newer_page(Photo.objects.all(), cursor=cursor, page_size=4)
        above = newer.photos + above
        cursor = newer.next_cursor.encode() if newer.next_cursor else None
    everything = list(Photo.objects.library_order())
    assert above + page.photos == everything[: len(above) + 4]
    assert len(above) == 15


def test_on_this_day_shows_earlier_years_only(seeded):
    make_photo_row(taken_at=aware(2025, 3, 5, 8))  # this year: not "on this day"
    trashed = make_photo_row(taken_at=aware(2019, 3, 5, 8))
    Photo.objects.filter(pk=trashed.pk).update(trashed_at=timezone.now())
    found = library.on_this_day(Photo.objects.all(), date(2025, 3, 5))
    assert [photo.taken_date for photo in found] == [date(2024, 3, 5)]
    assert library.on_this_day(Photo.objects.all(), date(2025, 8, 1)) == []
