"""`manage.py media_migrate --to s3|local`: copies verified before rows switch, sources deleted only after, resumable
after a stop, against a real S3 API (moto_server)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from gallery import storage
from gallery.models import Photo, Variant
from tests import private_s3
from tests.conftest import ready_photo

pytestmark = pytest.mark.django_db

# Fixtures: moto_server for the session, a bucket of each test's own (see tests/private_s3.py).
moto_url = private_s3.moto_url
bucket = private_s3.bucket


def migrate(*args: str) -> str:
    out = io.StringIO()
    call_command("media_migrate", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def local_library(client_logged_in, bucket, settings):
    """Two rendered photos under MEDIA_ROOT, made before the bucket was configured; then the bucket is."""
    settings.AWS_STORAGE_BUCKET_NAME = ""
    photos = [ready_photo(client_logged_in), ready_photo(client_logged_in, "formats/exif_gps.jpg")]
    settings.AWS_STORAGE_BUCKET_NAME = bucket.name
    contents = {}
    for photo in photos:
        for name in [photo.original, *(variant.file for variant in photo.variants.all())]:
            contents[name] = storage.media_path(name).read_bytes()
    return photos, contents


def every_row_has_its_file() -> bool:
    rows = [
        *Photo.all_objects.values_list("original", "original_location"),
        *Variant.objects.values_list("file", "location"),
    ]
    return all(storage.exists(name, location=location) for name, location in rows)


def test_dry_run_says_what_would_move_and_changes_nothing(local_library, bucket):
    photos, contents = local_library
    output = migrate("--to", "s3", "--dry-run")
    assert f"Would move {len(contents)} files" in output
    assert "2 originals" in output
    assert bucket.keys() == []
    assert not Photo.all_objects.filter(original_location="s3").exists()


def test_to_s3_moves_every_file_verified_and_the_app_serves_them_from_the_bucket(
    local_library, bucket, media_root, client_logged_in
):
    photos, contents = local_library
    output = migrate("--to", "s3")
    assert f"Moved {len(contents)} files to the bucket" in output
    assert f"[{'#' * 30}] {len(contents)}/{len(contents)} files" in output  # the progress bar's last line
    assert bucket.keys() == sorted(contents)
    assert all(bucket.read(name) == data for name, data in contents.items())
    assert not [path for path in media_root.rglob("*") if path.is_file()]
    assert set(Photo.all_objects.values_list("original_location", flat=True)) == {"s3"}
    assert set(Variant.objects.values_list("location", flat=True)) == {"s3"}
    thumb = Variant.objects.get(photo=photos[0], name="thumb")
    assert client_logged_in.get(thumb.url)["Location"].startswith(bucket.endpoint)
    assert migrate("--to", "s3").startswith("Moved 0 files")  # nothing left: a second run is harmless


def test_a_stopped_migration_leaves_every_row_served_and_carries_on_when_run_again(
    local_library, bucket, monkeypatch, client_logged_in
):
    photos, contents = local_library
    real_copy, calls = storage.copy_file, []

    def copy_until_the_bucket_goes(name, **kwargs):
        calls.append(name)
        if len(calls) == 4:
            raise storage.StorageUnavailable("The S3 server went away.")
        return real_copy(name, **kwargs)

    monkeypatch.setattr(storage, "copy_file", copy_until_the_bucket_goes)
    with pytest.raises(CommandError, match="Run the command again"):
        migrate("--to", "s3")
    moved = Photo.all_objects.filter(original_location="s3").count() + Variant.objects.filter(location="s3").count()
    assert moved == 3
    assert every_row_has_its_file()
    # Half-way, the app serves every file from where its row says: the bucket's by redirect, the disk's itself.
    answers = {variant.location: client_logged_in.get(variant.url).status_code for variant in Variant.objects.all()}
    assert answers == {"s3": 302, "local": 200}

    monkeypatch.setattr(storage, "copy_file", real_copy)
    assert f"Moved {len(contents) - 3} files" in migrate("--to", "s3")
    assert bucket.keys() == sorted(contents)
    assert every_row_has_its_file()


def test_a_copy_that_does_not_match_is_not_switched_and_its_source_stays(local_library, bucket):
    photos, contents = local_library
    damaged = storage.media_path(photos[0].original)
    data = bytearray(damaged.read_bytes())
    data[-10] ^= 0xFF  # same size, other bytes: only the SHA-256 tells
    damaged.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="could not be moved"):
        migrate("--to", "s3")
    photo = Photo.all_objects.get(pk=photos[0].pk)
    assert photo.original_location == "local" and damaged.is_file()
    assert photo.original not in bucket.keys()
    assert every_row_has_its_file()


def test_to_local_brings_everything_back(local_library, bucket, client_logged_in):
    photos, contents = local_library
    migrate("--to", "s3")
    assert "Moved" in migrate("--to", "local")
    assert bucket.keys() == []
    assert all(storage.media_path(name).read_bytes() == data for name, data in contents.items())
    assert set(Variant.objects.values_list("location", flat=True)) == {"local"}
    thumb = Variant.objects.get(photo=photos[0], name="thumb")
    assert client_logged_in.get(thumb.url).status_code == 200


def test_without_a_bucket_it_says_what_to_set(settings):
    settings.AWS_STORAGE_BUCKET_NAME = ""
    with pytest.raises(CommandError, match="AWS_STORAGE_BUCKET_NAME"):
        migrate("--to", "s3")
