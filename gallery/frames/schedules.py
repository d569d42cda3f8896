"""The schedule engine. Pure: windows and a moment in, a decision out; no ORM, no settings.

A window starts on chosen weekdays at `start` and ends at `end` the same day, or the next day when `end` is not
after `start` (22:00-06:00 belongs to the day it starts on). Times are wall-clock times in the frame's time zone,
so a window keeps its local hours across daylight-saving changes. Where windows overlap, the highest priority
wins (then the oldest window). When no window applies the frame shows its default playlist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

BLANK = "blank"
PLAYLIST = "playlist"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Window:
    id: int
    weekdays: frozenset[int]  # 0 = Monday
    start: time
    end: time
    action: str  # PLAYLIST or BLANK
    playlist_id: int | None = None
    priority: int = 0

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def applies(self, weekday: int, at: time) -> bool:
        if not self.crosses_midnight:
            return weekday in self.weekdays and self.start <= at < self.end
        return (weekday in self.weekdays and at >= self.start) or ((weekday - 1) % 7 in self.weekdays and at < self.end)


@dataclass(frozen=True)
class Program:
    """What a frame shows: a playlist (None: nothing assigned) or a blank screen, and which window decided."""

    playlist_id: int | None
    blank: bool = False
    window_id: int | None = None

    @property
    def key(self) -> str:
        if self.window_id is None:
            return f"default:{self.playlist_id or ''}"
        if self.blank:
            return f"blank:{self.window_id}"
        return f"playlist:{self.playlist_id}:{self.window_id}"


def winning_window(windows: Iterable[Window], weekday: int, at: time) -> Window | None:
    applicable = [window for window in windows if window.applies(weekday, at)]
    if not applicable:
        return None
    return min(applicable, key=lambda window: (-window.priority, window.id))


def program_for(windows: Iterable[Window], *, default_playlist_id: int | None, weekday: int, at: time) -> Program:
    """The decision for a weekday and a wall-clock time (also what the admin's preview asks)."""
    window = winning_window(windows, weekday, at)
    if window is None:
        return Program(default_playlist_id)
    if window.action == BLANK:
        return Program(None, blank=True, window_id=window.id)
    return Program(window.playlist_id, window_id=window.id)


def program_at(
    windows: Iterable[Window], *, default_playlist_id: int | None, when: datetime, zone: ZoneInfo
) -> Program:
    """The decision at an instant, read on the frame's wall clock."""
    local = when.astimezone(zone)
    return program_for(
        windows,
        default_playlist_id=default_playlist_id,
        weekday=local.weekday(),
        at=local.time().replace(tzinfo=None),
    )


def parse_weekdays(value: str) -> frozenset[int]:
    return frozenset(int(char) for char in value if char.isdigit() and int(char) < 7)


def describe_weekdays(days: Iterable[int]) -> str:
    days = sorted(set(days))
    if days == list(range(7)):
        return "Every day"
    if days == list(range(5)):
        return "Weekdays"
    if days == [5, 6]:
        return "Weekends"
    return ", ".join(WEEKDAYS[day][:3] for day in days)
