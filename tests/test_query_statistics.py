"""SQLite's planner statistics: the cron's job writes them, and the cron configuration names the job."""

import pytest
from django.db import connection

from glowworm import query_statistics
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


def test_the_job_gives_sqlite_statistics_for_the_photos_table():
    for _ in range(3):
        make_photo_row()
    answer = query_statistics.refresh()
    if connection.vendor != "sqlite":
        assert answer.startswith("nothing to do")
        return
    assert answer == "analyzed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'gallery_photo'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"photo_library_in_order", "photo_month_in_library"} <= indexes


def test_the_cron_runs_it(monkeypatch):
    import importlib

    from rq import cron

    import glowworm.cron

    registered = []
    monkeypatch.setattr(cron, "register", lambda func, queue, **options: registered.append((func, options)))
    importlib.reload(glowworm.cron)
    assert (query_statistics.refresh, 6 * 3600) in [(func, options.get("interval")) for func, options in registered]
