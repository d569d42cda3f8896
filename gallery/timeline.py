"""The date scrubber's links (gallery/_scrubber.html): each year and month of library.scrubber() with the URL of the
page that starts there, the page's filters kept. Written out here rather than in the template: a big library has
hundreds of months, and plain strings render several times faster than a template filter chain per link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gallery.library import ScrubberYear


@dataclass
class TimelineMonth:
    short: str  # "May"
    label: str  # "May 2024, 4 photos"
    count: int
    href: str
    current: bool


@dataclass
class TimelineYear:
    year: int
    count: int
    href: str
    current: bool
    months: list[TimelineMonth]


def timeline(years: list[ScrubberYear], *, more_url: str, current: date | None) -> list[TimelineYear]:
    """`current`: the month the page shows first, when it was opened at a cursor (a jump)."""
    joiner = "&" if "?" in more_url else "?"
    found = []
    for year in years:
        months = [
            TimelineMonth(
                short=f"{month.month:%b}",
                label=f"{month.month:%B %Y}, {month.count} photo{'' if month.count == 1 else 's'}",
                count=month.count,
                href=f"{more_url}{joiner}before={month.cursor.encode()}",
                current=month.month == current,
            )
            for month in year.months
        ]
        is_current = current is not None and current.year == year.year
        found.append(TimelineYear(year.year, year.count, months[0].href, is_current, months))
    return found
