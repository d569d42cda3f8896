"""Table statistics for SQLite's query planner, refreshed from the cron every few hours.

SQLite keeps none unless ANALYZE runs, and without them it guesses that `trashed_at IS NULL` picks few rows: at
100,000 photos it then read a filtered count through the trashed_at-first library index, a lookup per photo, at
about three times the cost of a plain scan (bench/scale.py, docs/performance.md). ANALYZE samples: 0.12 s there.
MariaDB's InnoDB keeps its statistics itself.
"""

from django.db import connection


def refresh() -> str:
    """The periodic job (glowworm/cron.py); its result is a line of text."""
    if connection.vendor != "sqlite":
        return "nothing to do: the database keeps its own statistics"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return "analyzed"
