"""`manage.py reprocess`: selection, --only, --missing, --dry-run, --sync, waiting on real workers, exit status."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from datetime import timedelta

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rq import Worker
from rq.job import Job

from gallery import storage
from gallery.models import Album, Photo
from processing import jobs
from tests import private_redis
from tests.conftest import DATA, ROOT, process_env, ready_photo

pytestmark = pytest.mark.django_db

# Fixtures: a Redis server of this module's own (see tests/private_redis.py).
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
run_worker = private_redis.run_worker


def files(photo: Photo) -> dict[str, str]:
    return dict(photo.variants.values_list("name", "file"))


def reprocess(*args) -> str:
    out = io.StringIO()
    try:
        call_command("reprocess", *args, stdout=out, stderr=out)
    except CommandError as exc:
        raise CommandError(f"{exc}\n--- output ---\n{out.getvalue()}") from None
    return out.getvalue()


def test_without_a_selector_it_says_what_to_give(client_logged_in, redis_conn):
    with pytest.raises(CommandError, match="Say which photos"):
        reprocess("--sync")


def test_dry_run_lists_what_would_happen_and_changes_nothing(client_logged_in, redis_conn):
    photos = [ready_photo(client_logged_in), ready_photo(client_logged_in, "formats/hopper_gray.jpg")]
    before = [files(photo) for photo in photos]
    output = reprocess("--all", "--only", "thumbnails", "--dry-run")
    assert f"photo {photos[0].pk} hopper.jpg [ready]: would render thumb, thumb2x" in output
    assert "2 photos would be re-rendered (only thumbnails)." in output
    assert [files(photo) for photo in photos] == before
    assert set(Photo.objects.values_list("status", flat=True)) == {"ready"}
    assert redis_conn.llen("rq:queue:default") == 0


def test_sync_only_thumbnails_replaces_them_new_file_first_and_leaves_variants(
    client_logged_in, redis_conn, media_root
):
    photo = ready_photo(client_logged_in)
    before = files(photo)
    output = reprocess(str(photo.pk), "--only", "thumbnails", "--sync")
    after = files(photo)
    assert {name for name in after if after[name] != before[name]} == {"thumb", "thumb2x"}
    queue = django_rq.get_queue("default")
    scheduled = [
        Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
        for job_id in queue.scheduled_job_registry.get_job_ids()
    ]
    retirements = {job.args[0]: job for job in scheduled if job.func_name == "gallery.storage.delete_file"}
    for name in ("thumb", "thumb2x"):
        assert (media_root / after[name]).is_file()
        # The old file stays for a grace period (a page may still show it), then a scheduled job deletes it.
        assert (media_root / before[name]).is_file()
        retirements[before[name]].perform()
        assert not (media_root / before[name]).exists()
    assert len(retirements) == 2
    assert (media_root / after["preview"]).is_file()
    assert f"photo {photo.pk} hopper.jpg: ready in " in output
    assert "[##############################] 1/1" in output
    assert "Done in" in output and "1 ready, 0 failed" in output
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY


def test_missing_renders_only_a_newly_configured_display_size(client_logged_in, redis_conn, settings, media_root):
    photo = ready_photo(client_logged_in)
    before = files(photo)
    settings.GLOWWORM_DISPLAY_SIZES = [*settings.GLOWWORM_DISPLAY_SIZES, (640, 480)]

    assert "would render display-640x480\n" in reprocess("--missing", "--dry-run")
    reprocess("--missing", "--sync")
    after = files(photo)
    assert set(after) - set(before) == {"display-640x480"}
    assert {name: after[name] for name in before} == before  # nothing else was re-rendered
    assert "No photos match" in reprocess("--missing", "--sync")


def test_missing_finds_a_variant_whose_file_is_gone(client_logged_in, redis_conn, media_root):
    photo = ready_photo(client_logged_in)
    before = files(photo)
    (media_root / before["thumb2x"]).unlink()
    output = reprocess("--missing", "--dry-run")
    assert "would render thumb2x\n" in output
    reprocess("--missing", "--sync")
    after = files(photo)
    assert (media_root / after["thumb2x"]).is_file()
    assert {name for name in after if after[name] != before[name]} == {"thumb2x"}


def test_a_failed_photo_gives_a_summary_and_an_error_exit(client_logged_in, redis_conn):
    good = ready_photo(client_logged_in)
    bad = ready_photo(client_logged_in, "formats/hopper_gray.jpg")
    storage.media_path(bad.original).write_bytes(b"GIF89a but nothing else")
    out = io.StringIO()
    with pytest.raises(CommandError, match=rf"1 photo failed: \[{bad.pk}\]"):
        call_command("reprocess", "--all", "--sync", stdout=out, stderr=out)
    assert f"photo {bad.pk} hopper_gray.jpg: failed: " in out.getvalue()
    assert "1 ready, 1 failed" in out.getvalue()
    good.refresh_from_db()
    assert good.status == Photo.Status.READY

    # --failed picks exactly the failed one
    assert f"photo {bad.pk} " in reprocess("--failed", "--dry-run")
    assert f"photo {good.pk} " not in reprocess("--failed", "--dry-run")


def test_album_and_since_narrow_the_selection(client_logged_in, redis_conn):
    old = ready_photo(client_logged_in)
    new = ready_photo(client_logged_in, "formats/hopper_gray.jpg")
    Photo.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    trip = Album.objects.create(name="Trip")
    trip.photos.add(old)

    assert f"photo {old.pk} " in reprocess("--album", "trip", "--dry-run")
    assert "1 photo would" in reprocess("--album", "Trip", "--dry-run")
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    output = reprocess("--since", since, "--dry-run")
    assert f"photo {new.pk} " in output and f"photo {old.pk} " not in output
    assert "0 photos would" in reprocess("--album", "Trip", "--since", since, "--dry-run")
    with pytest.raises(CommandError, match="No album named 'Nowhere'"):
        reprocess("--album", "Nowhere", "--dry-run")
    with pytest.raises(CommandError, match="not a date"):
        reprocess("--since", "yesterday", "--dry-run")


def test_stuck_selects_pending_photos_without_a_live_job(client_logged_in, redis_conn):
    stuck = ready_photo(client_logged_in)
    waiting = ready_photo(client_logged_in, "formats/hopper_gray.jpg")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Photo.objects.filter(pk__in=[stuck.pk, waiting.pk]).update(status=Photo.Status.QUEUED, updated_at=an_hour_ago)
    jobs.enqueue_render(waiting.pk)  # this one has a job in the queue: not stuck
    output = reprocess("--stuck", "--dry-run")
    assert f"photo {stuck.pk} " in output and f"photo {waiting.pk} " not in output
    assert "0 photos would" in reprocess("--stuck", "--older-than", "120", "--dry-run")


@pytest.fixture
def worker(transactional_db, media_root, private_redis_url, redis_conn, tmp_path):
    log = open(tmp_path / "worker.log", "w+")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "worker"],
        env=process_env(media_root, private_redis_url), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while Worker.count(connection=redis_conn) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    yield process
    process.terminate()
    process.wait(30)
    log.close()


def rendered_by_worker(client, name: str = "formats/hopper.jpg") -> Photo:
    with open(DATA / name, "rb") as handle:
        response = client.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        photo = Photo.objects.get(pk=response.json()["id"])
        if photo.status == Photo.Status.READY:
            return photo
        time.sleep(0.1)
    pytest.fail(f"photo {photo.pk} is {photo.status}")


@pytest.mark.live
def test_queued_reprocess_waits_for_the_workers_with_a_progress_bar(client_logged_in, redis_conn, worker, media_root):
    photos = [rendered_by_worker(client_logged_in), rendered_by_worker(client_logged_in, "formats/hopper_gray.jpg")]
    before = [files(photo) for photo in photos]
    output = reprocess("--all", "--only", "variants")
    assert "Queued 2; 0 already queued or rendering." in output
    assert "[##############################] 2/2 ready 2, failed 0" in output
    assert "2 ready, 0 failed." in output
    for photo, old in zip(photos, before, strict=True):
        new = files(photo)
        assert new["thumb"] == old["thumb"] and new["preview"] != old["preview"]
        assert all((media_root / name).is_file() for name in new.values())
    assert set(Photo.objects.values_list("status", flat=True)) == {"ready"}


@pytest.mark.live
def test_queued_reprocess_exits_non_zero_when_a_worker_fails_a_photo(client_logged_in, redis_conn, worker):
    bad = rendered_by_worker(client_logged_in)
    storage.media_path(bad.original).write_bytes(b"\x89PNG\r\n\x1a\n and then nothing")
    with pytest.raises(CommandError, match="1 photo failed"):
        reprocess(str(bad.pk))
    bad.refresh_from_db()
    assert bad.status == Photo.Status.FAILED and bad.error


WATCH_IMAGES = """
() => {
  window.__noReload = true;
  window.__broken = [];
  document.addEventListener("error", (event) => {
    if (event.target.tagName === "IMG") window.__broken.push("error " + event.target.currentSrc);
  }, true);
  window.__sampler = setInterval(() => {
    document.querySelectorAll("img.tile-image").forEach((img) => {
      if (img.complete && img.naturalWidth === 0) window.__broken.push("empty " + img.currentSrc);
    });
  }, 25);
}
"""


@pytest.mark.browser
@pytest.mark.live
def test_a_page_open_during_a_reprocess_never_shows_a_broken_image_and_updates_live(logged_in_page, live):
    page = logged_in_page
    page.wait_for_function("() => document.querySelector('main[data-live]') !== null")
    names = ["formats/hopper.jpg", "formats/hopper_gray.jpg", "photos/landscape_orientation_1.jpg"]
    page.set_input_files("#upload-input", [str(DATA / name) for name in names])
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('#grid figure[data-status=ready] img.tile-image').length === 3",
            timeout=60_000,
        )
    except Exception:
        raise AssertionError(live.output()) from None
    before = page.evaluate("() => Array.from(document.querySelectorAll('img.tile-image'), img => img.src)")
    page.evaluate(WATCH_IMAGES)

    output = reprocess("--all", "--only", "thumbnails")
    assert "3/3 ready 3, failed 0" in output

    page.wait_for_function(
        "(before) => Array.from(document.querySelectorAll('img.tile-image'), img => img.src)"
        ".every((src) => !before.includes(src))",
        arg=before,
        timeout=30_000,
    )  # every thumbnail was swapped for its new file by a push, without a reload
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('img.tile-image')).every(img => img.complete && img.naturalWidth)"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.__broken") == []
    assert page.evaluate("window.__noReload") is True
    assert set(Photo.objects.values_list("status", flat=True)) == {"ready"}
