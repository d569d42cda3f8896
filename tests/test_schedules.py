"""The schedule engine, pure: cross-midnight windows, priorities, reverting to the default, time zones, DST days."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from gallery.frames.schedules import BLANK, PLAYLIST, Program, Window, program_at, program_for

DEFAULT = 1
MORNING = 2
NIGHT = 3
EVERY_DAY = frozenset(range(7))
BERLIN = ZoneInfo("Europe/Berlin")


def decide(windows, weekday, hour, minute=0):
    return program_for(windows, default_playlist_id=DEFAULT, weekday=weekday, at=time(hour, minute))


def test_no_window_means_the_default_playlist():
    assert decide([], 1, 7, 30) == Program(DEFAULT)


def test_a_window_switches_playlist_and_reverts_after_it_ends():
    morning = Window(10, frozenset({1}), time(7), time(9), PLAYLIST, MORNING)
    assert decide([morning], 1, 6, 59) == Program(DEFAULT)
    assert decide([morning], 1, 7, 0) == Program(MORNING, window_id=10)
    assert decide([morning], 1, 8, 59) == Program(MORNING, window_id=10)
    assert decide([morning], 1, 9, 0) == Program(DEFAULT)  # back to the default, not left on the last one
    assert decide([morning], 2, 7, 30) == Program(DEFAULT)  # other weekday


def test_a_window_across_midnight_belongs_to_the_day_it_starts():
    night = Window(11, frozenset({4}), time(22), time(6), BLANK)  # Friday 22:00 to Saturday 06:00
    assert decide([night], 4, 21, 59) == Program(DEFAULT)
    assert decide([night], 4, 22, 0) == Program(None, blank=True, window_id=11)
    assert decide([night], 4, 23, 59) == Program(None, blank=True, window_id=11)
    assert decide([night], 5, 0, 0) == Program(None, blank=True, window_id=11)
    assert decide([night], 5, 5, 59) == Program(None, blank=True, window_id=11)
    assert decide([night], 5, 6, 0) == Program(DEFAULT)
    assert decide([night], 4, 3, 0) == Program(DEFAULT)  # Friday early morning belongs to Thursday's window
    sunday = Window(12, frozenset({6}), time(22), time(6), BLANK)
    assert decide([sunday], 0, 2, 0).blank  # Sunday night runs into Monday


def test_overlaps_go_to_the_higher_priority_then_the_older_window():
    night = Window(20, EVERY_DAY, time(21), time(7), BLANK, priority=0)
    breakfast = Window(21, frozenset({0, 1, 2, 3, 4}), time(6), time(8), PLAYLIST, MORNING, priority=5)
    assert decide([night, breakfast], 1, 6, 30) == Program(MORNING, window_id=21)
    assert decide([night, breakfast], 5, 6, 30) == Program(None, blank=True, window_id=20)  # Saturday: no breakfast
    twin = Window(19, EVERY_DAY, time(21), time(7), PLAYLIST, NIGHT, priority=0)
    assert decide([night, twin], 2, 23, 0).window_id == 19


def test_time_zone_is_the_frames():
    morning = Window(30, EVERY_DAY, time(7), time(8), PLAYLIST, MORNING)
    when = datetime(2026, 6, 2, 5, 30, tzinfo=UTC)  # 07:30 in Berlin (CEST), 06:30 in London (BST)
    assert program_at([morning], default_playlist_id=DEFAULT, when=when, zone=BERLIN).playlist_id == MORNING
    assert program_at([morning], default_playlist_id=DEFAULT, when=when, zone=ZoneInfo("Europe/London")) == Program(
        DEFAULT
    )
    tokyo = program_at([morning], default_playlist_id=DEFAULT, when=when, zone=ZoneInfo("Asia/Tokyo"))
    assert tokyo == Program(DEFAULT)  # 14:30 there


def test_windows_keep_their_wall_clock_hours_across_the_spring_change():
    # Berlin, Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    morning = Window(40, frozenset({6}), time(7), time(8), PLAYLIST, MORNING)
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # 01:59 CET
    after = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert before.astimezone(BERLIN).hour == 1 and after.astimezone(BERLIN).hour == 3
    at_seven = datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST (06:00 UTC would be 08:00)
    assert program_at([morning], default_playlist_id=DEFAULT, when=at_seven, zone=BERLIN).playlist_id == MORNING
    assert program_at(
        [morning], default_playlist_id=DEFAULT, when=datetime(2026, 3, 29, 6, 0, tzinfo=UTC), zone=BERLIN
    ) == Program(DEFAULT)
    # A window inside the skipped hour starts at the first existing minute after it: 03:00 is >= 02:30.
    skipped = Window(41, frozenset({6}), time(2, 30), time(3, 30), BLANK)
    assert program_at([skipped], default_playlist_id=DEFAULT, when=after, zone=BERLIN).blank
    assert not program_at([skipped], default_playlist_id=DEFAULT, when=before, zone=BERLIN).blank


def test_windows_keep_their_wall_clock_hours_across_the_autumn_change():
    # Berlin, Sunday 25 October 2026: 03:00 CEST falls back to 02:00 CET, so 02:xx happens twice.
    window = Window(50, frozenset({6}), time(2), time(3), BLANK)
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert first.astimezone(BERLIN).hour == second.astimezone(BERLIN).hour == 2
    assert program_at([window], default_playlist_id=DEFAULT, when=first, zone=BERLIN).blank
    assert program_at([window], default_playlist_id=DEFAULT, when=second, zone=BERLIN).blank
    assert not program_at(
        [window], default_playlist_id=DEFAULT, when=datetime(2026, 10, 25, 2, 0, tzinfo=UTC), zone=BERLIN
    ).blank  # 03:00 CET
    night = Window(51, frozenset({5}), time(22), time(6), BLANK)  # Saturday night over the change: 9 hours long
    assert program_at(
        [night], default_playlist_id=DEFAULT, when=datetime(2026, 10, 25, 4, 59, tzinfo=UTC), zone=BERLIN
    ).blank
    assert not program_at(
        [night], default_playlist_id=DEFAULT, when=datetime(2026, 10, 25, 5, 0, tzinfo=UTC), zone=BERLIN
    ).blank  # 06:00 CET


def test_a_window_without_a_playlist_left_shows_the_default_key():
    assert Program(DEFAULT).key == "default:1"
    assert Program(None, blank=True, window_id=3).key == "blank:3"
    assert Program(MORNING, window_id=4).key == "playlist:2:4"
