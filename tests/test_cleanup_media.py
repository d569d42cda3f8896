"""`manage.py cleanup_media`: unreferenced files go, referenced ones never do, rows without files are repaired."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.management import call_command
from rq.job import Job
from rq.serializers import JSONSerializer

from gallery.management.commands.cleanup_media import Command
from gallery.models import Photo, Variant
from processing import jobs
from tests import private_redis
from tests.conftest import DATA, render_chain

pytestmark = pytest.mark.django_db

# Fixtures: a Redis server of this module's own (see tests/private_redis.py).
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
run_worker = private_redis.run_worker

AN_HOUR_AGO = time.time() - 2 * 3600


def ready_photo(client, name: str = "formats/hopper.jpg") -> Photo:
    with open(DATA / name, "rb") as handle:
        response = client.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    assert jobs.render_now(response.json()["id"]) == "ready"
    return Photo.objects.get(pk=response.json()["id"])


def old_file(media_root, relative: str, content: bytes = b"x" * 1000):
    path = media_root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))
    return path


def all_files(media_root) -> set[str]:
    return {path.relative_to(media_root).as_posix() for path in media_root.rglob("*") if path.is_file()}


def cleanup(*args) -> str:
    out = io.StringIO()
    call_command("cleanup_media", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def library(client_logged_in, media_root, redis_conn):
    photo = ready_photo(client_logged_in)
    for path in media_root.rglob("*"):
        if path.is_file():
            os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))  # referenced files, old enough to be candidates
    referenced = all_files(media_root)
    orphans = [
        old_file(media_root, "originals/zz/abandoned.jpg"),
        old_file(media_root, "variants/cd/abandoned-thumb-1234.webp"),
        old_file(media_root, "variants/ab/.half-written.webp.tmp"),
    ]
    young = media_root / "variants/ef/just-written-by-a-render.webp"
    young.parent.mkdir(parents=True, exist_ok=True)  # the photo's own folder may be ef/ too
    young.write_bytes(b"new")
    elsewhere = old_file(media_root, "exports/keep-me.zip")
    return photo, referenced, orphans, young, elsewhere


def test_dry_run_reports_and_changes_nothing(library, media_root):
    photo, referenced, orphans, young, elsewhere = library
    before = all_files(media_root)
    output = cleanup("--dry-run")
    assert "Would delete unreferenced file originals/zz/abandoned.jpg (1000\xa0bytes)" in output
    assert "Would delete 3 unreferenced files (2.9\xa0KB); left 1 younger than 60 minutes." in output
    assert all_files(media_root) == before


def test_deletes_unreferenced_files_and_never_a_referenced_one(library, media_root):
    photo, referenced, orphans, young, elsewhere = library
    output = cleanup()
    assert "Deleted 3 unreferenced files" in output
    assert not any(path.exists() for path in orphans)
    assert not (media_root / "originals/zz").exists()  # emptied directories go too (zz: never a photo key's hex prefix)
    assert referenced <= all_files(media_root)
    assert young.exists()  # maybe a render's new file whose row is about to be committed
    assert elsewhere.exists()  # outside originals/ and variants/: not ours to judge
    assert Photo.objects.get(pk=photo.pk).status == Photo.Status.READY
    assert "No photo" not in output and "0 variant rows without a file" in output


def test_a_file_referenced_after_the_scan_is_kept(library, media_root, monkeypatch):
    photo, referenced, orphans, young, elsewhere = library
    variant = photo.variants.get(name="thumb")
    scanned = Command.unreferenced_files

    def scan_then_a_row_appears(self, root, *, min_age_seconds):
        found = scanned(self, root, min_age_seconds=min_age_seconds)
        Variant.objects.filter(pk=variant.pk).update(file="variants/cd/abandoned-thumb-1234.webp")
        return found

    monkeypatch.setattr(Command, "unreferenced_files", scan_then_a_row_appears)
    cleanup()
    assert (media_root / "variants/cd/abandoned-thumb-1234.webp").exists()


def test_rows_whose_files_are_gone_are_repaired(
    client_logged_in, media_root, redis_conn, django_capture_on_commit_callbacks
):
    photo = ready_photo(client_logged_in)
    lost_original = ready_photo(client_logged_in, "formats/hopper_gray.jpg")
    thumb = photo.variants.get(name="thumb")
    (media_root / thumb.file).unlink()
    (media_root / lost_original.original).unlink()

    output = cleanup("--dry-run")
    assert f"Would drop variant row {thumb}" in output
    assert f"Would mark photo {lost_original.pk} hopper_gray.jpg failed: original gone" in output
    assert Variant.objects.filter(pk=thumb.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        output = cleanup()
    assert "1 variant row without a file (re-rendering their photos); 1 photo without an original." in output
    assert not Variant.objects.filter(pk=thumb.pk).exists()
    job = Job.fetch(jobs.render_job_id(photo.pk), connection=redis_conn, serializer=JSONSerializer)
    assert job.kwargs == {"stages": ["thumbnail", "variant"], "missing_only": True, "origin": "bulk"}
    lost_original.refresh_from_db()
    assert (lost_original.status, lost_original.error) == (Photo.Status.FAILED, "The original file is missing.")
    assert "0 photos without an original" in cleanup()  # reported once, not every run

    render_chain(photo.pk, missing_only=True)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
    assert (media_root / photo.variants.get(name="thumb").file).is_file()
