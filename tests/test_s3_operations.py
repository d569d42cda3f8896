"""Operations on media in the bucket: cleanup_media, doctor and reprocess against a real S3 API (moto_server)."""

from __future__ import annotations

import http.server
import io
import json
import threading

import boto3
import pytest
from django.core.management import call_command
from PIL import Image

from gallery import storage
from gallery.management.commands import smoke
from gallery.models import Photo, Variant
from tests import private_s3
from tests.conftest import free_port, ready_photo

pytestmark = pytest.mark.django_db

# Fixtures: moto_server for the session, a bucket of each test's own (see tests/private_s3.py).
moto_url = private_s3.moto_url
bucket = private_s3.bucket


def command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    return out.getvalue()


def doctor() -> dict:
    out = io.StringIO()
    try:
        call_command("doctor", "--json", stdout=out)
    except SystemExit:
        pass
    return {check["name"]: check for check in json.loads(out.getvalue())["checks"]}


def test_cleanup_media_deletes_unreferenced_objects_and_keeps_referenced_ones(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    bucket.client.put_object(Bucket=bucket.name, Key="variants/zz/stray.webp", Body=b"left over")
    bucket.client.put_object(Bucket=bucket.name, Key="elsewhere/not-ours.txt", Body=b"someone else's")
    dry = command("cleanup_media", "--dry-run", "--min-age", "0")
    assert "Would delete unreferenced file variants/zz/stray.webp from the bucket" in dry
    assert "variants/zz/stray.webp" in bucket.keys()
    command("cleanup_media", "--min-age", "0")
    expected = sorted([photo.original, *(variant.file for variant in photo.variants.all()), "elsewhere/not-ours.txt"])
    assert bucket.keys() == expected


def test_cleanup_media_finds_rows_whose_objects_are_gone(client_logged_in, bucket, redis_conn):
    photo = ready_photo(client_logged_in)
    thumb = photo.variants_by_name["thumb"]
    bucket.client.delete_object(Bucket=bucket.name, Key=thumb.file)
    output = command("cleanup_media", "--min-age", "0")
    assert f"Dropped variant row {thumb}" in output
    assert not Variant.objects.filter(pk=thumb.pk).exists()
    bucket.client.delete_object(Bucket=bucket.name, Key=photo.original)
    command("cleanup_media", "--min-age", "0")
    assert Photo.all_objects.get(pk=photo.pk).status == Photo.Status.FAILED


def test_reprocess_renders_again_from_and_into_the_bucket(client_logged_in, bucket, redis_conn, settings):
    settings.GLOWWORM_REPLACED_FILE_GRACE = 0
    photo = ready_photo(client_logged_in)
    before = set(Variant.objects.filter(photo=photo).values_list("file", flat=True))
    output = command("reprocess", str(photo.pk), "--sync")
    assert "ready" in output.lower() or "rendered" in output.lower(), output
    after = set(Variant.objects.filter(photo=photo).values_list("file", flat=True))
    assert after and not before & after
    assert bucket.keys("variants/") == sorted(after)
    assert set(Variant.objects.filter(photo=photo).values_list("location", flat=True)) == {"s3"}


def test_reprocess_missing_renders_what_the_bucket_lost(client_logged_in, bucket, redis_conn):
    photo = ready_photo(client_logged_in)
    thumb = photo.variants_by_name["thumb"]
    bucket.client.delete_object(Bucket=bucket.name, Key=thumb.file)
    command("reprocess", "--missing", "--sync")
    fresh = Variant.objects.get(photo=photo, name="thumb")
    assert fresh.file != thumb.file and fresh.file in bucket.keys()


def test_doctor_says_the_bucket_works(client_logged_in, bucket):
    ready_photo(client_logged_in)
    findings = doctor()
    assert findings["bucket"]["status"] == "ok", findings["bucket"]
    assert "write-read-delete works" in findings["bucket"]["summary"]
    assert bucket.keys(".glowworm-doctor/") == []  # the probe cleaned up after itself
    assert findings["bucket files"]["status"] == "ok", findings["bucket files"]
    assert findings["files"]["status"] == "ok", findings["files"]  # rows in the bucket are not looked for on disk


def test_doctor_names_objects_missing_from_the_bucket(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    bucket.client.delete_object(Bucket=bucket.name, Key=photo.original)
    finding = doctor()["bucket files"]
    assert finding["status"] == "error"
    assert f"missing the original in the bucket (ids {photo.pk})" in finding["summary"]
    assert finding["details"]["missing_originals"] == [photo.pk]


def test_doctor_names_a_missing_bucket(bucket, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"
    finding = doctor()["bucket"]
    assert finding["status"] == "error"
    assert "'no-such-bucket' does not exist" in finding["summary"]
    assert "aws s3 mb s3://no-such-bucket" in finding["fix"]


def test_doctor_names_a_server_that_does_not_answer(bucket, settings):
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    finding = doctor()["bucket"]
    assert finding["status"] == "error"
    assert "cannot be reached" in finding["summary"]
    assert "AWS_S3_ENDPOINT_URL" in finding["fix"]


@pytest.fixture(scope="module")
def strict_moto():
    """A moto_server that checks credentials: its first four requests are free (an IAM user, its policy, its key, a
    bucket), every later one must be signed with that key."""
    port = free_port()
    process = private_s3.start_moto(port, INITIAL_NO_AUTH_ACTION_COUNT="4")
    endpoint = f"http://127.0.0.1:{port}"
    try:
        iam = boto3.client(
            "iam", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        iam.create_user(UserName="glowworm")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="glowworm", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="glowworm")["AccessKey"]
        client = private_s3.s3_client(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
        client.create_bucket(Bucket="strict")
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        private_s3.stop(process)


def test_doctor_names_wrong_credentials_apart_from_a_missing_bucket(strict_moto, settings):
    endpoint, access_key, secret_key = strict_moto
    settings.AWS_STORAGE_BUCKET_NAME = "strict"
    settings.AWS_S3_ENDPOINT_URL = endpoint
    settings.AWS_ACCESS_KEY_ID = access_key
    settings.AWS_SECRET_ACCESS_KEY = secret_key
    settings.AWS_S3_REGION_NAME = "us-east-1"
    assert doctor()["bucket"]["status"] == "ok"
    settings.AWS_SECRET_ACCESS_KEY = "wrong-secret"
    finding = doctor()["bucket"]
    assert finding["status"] == "error"
    assert "refused the credentials" in finding["summary"]
    assert "AWS_SECRET_ACCESS_KEY" in finding["fix"]


def test_an_aws_location_prefix_holds_every_object_and_operations_keep_to_it(client_logged_in, bucket, settings):
    settings.AWS_LOCATION = "household"
    bucket.client.put_object(Bucket=bucket.name, Key="variants/zz/another-installation.webp", Body=b"theirs")
    photo = ready_photo(client_logged_in)
    names = sorted([photo.original, *(variant.file for variant in photo.variants.all())])
    assert bucket.keys("household/") == [f"household/{name}" for name in names]
    assert "Would delete 0 unreferenced files" in command("cleanup_media", "--dry-run", "--min-age", "0")
    assert doctor()["bucket files"]["status"] == "ok"
    location = client_logged_in.get(photo.variants_by_name["thumb"].url)["Location"]
    assert f"/{bucket.name}/household/variants/" in location


def test_reprocess_missing_asks_the_bucket_with_one_listing_not_a_request_per_file(
    client_logged_in, bucket, redis_conn, monkeypatch
):
    whole, lost = ready_photo(client_logged_in), ready_photo(client_logged_in, "formats/exif_gps.jpg")
    bucket.client.delete_object(Bucket=bucket.name, Key=lost.variants_by_name["thumb"].file)

    def one_by_one(*args, **kwargs):
        raise AssertionError("asked the bucket about one file")

    monkeypatch.setattr(storage, "size", one_by_one)
    output = command("reprocess", "--missing", "--dry-run")
    assert f"photo {lost.pk} " in output and f"photo {whole.pk} " not in output
    assert "would render thumb" in output


def test_smoke_sends_its_token_to_glowworm_only_never_along_a_redirect_to_the_bucket():
    seen: dict[str, str | None] = {}

    class Bucket(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen["bucket"] = self.headers.get("Authorization")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"RIFF")

        def log_message(self, *args):
            pass

    bucket_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bucket)

    class App(Bucket):
        def do_GET(self):
            seen["app"] = self.headers.get("Authorization")
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{bucket_server.server_port}/bucket/key?X-Amz-Signature=x")
            self.end_headers()

    app_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    for server in (bucket_server, app_server):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = smoke.Client(f"http://127.0.0.1:{app_server.server_port}", "gw_secret").request("GET", "/media/x")
    finally:
        for server in (bucket_server, app_server):
            server.shutdown()
            server.server_close()
    assert answer.status == 200 and answer.body == b"RIFF"
    assert seen == {"app": "Bearer gw_secret", "bucket": None}


def test_an_import_stores_originals_in_the_bucket_and_leaves_the_sources(
    bucket, user, redis_conn, settings, tmp_path, media_root, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path / "var"
    folder = tmp_path / "holiday"
    folder.mkdir()
    sources = [folder / "beach.jpg", folder / "cliff.jpg"]
    for source, colour in zip(sources, ((200, 120, 40), (30, 90, 200)), strict=True):
        Image.new("RGB", (64, 48), colour).save(source, quality=90)
    with django_capture_on_commit_callbacks(execute=True):
        command("import", str(folder))
    photos = list(Photo.objects.all())
    assert len(photos) == 2 and {photo.original_location for photo in photos} == {"s3"}
    assert bucket.keys("originals/") == sorted(photo.original for photo in photos)
    assert all(source.is_file() for source in sources)  # an import never moves what it was given
    assert not [path for path in media_root.rglob("*") if path.is_file()]
