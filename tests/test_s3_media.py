"""Media in an S3-compatible bucket (gallery/storage.py), against a real S3 API over HTTP (moto_server): uploads,
renders, serving with presigned redirects or streaming, access rules, and a bucket that cannot be reached."""

from __future__ import annotations

import hashlib
import io
import urllib.request
import zipfile
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from django.test import Client
from PIL import Image
from rq import Retry

from gallery import albums, storage, trash
from gallery.frames.models import Playlist, PlaylistItem
from gallery.frames.state import variant_url
from gallery.models import ApiToken, Photo, Variant
from gallery.sharing import links
from processing import jobs
from tests import private_s3
from tests.conftest import DATA, free_port, ready_photo, render_chain
from tests.test_frames import paired_frame_client

pytestmark = pytest.mark.django_db

# Fixtures: moto_server for the session, a bucket of each test's own (see tests/private_s3.py).
moto_url = private_s3.moto_url
bucket = private_s3.bucket


def media_files(media_root) -> list[str]:
    return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())


def upload(client, name="formats/hopper.jpg", **headers):
    with open(DATA / name, "rb") as handle:
        return client.post("/api/images/", {"file": handle}, **headers)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_an_upload_goes_to_the_bucket_once_and_nothing_under_media_root(client_logged_in, bucket, media_root):
    response = upload(client_logged_in)
    assert response.status_code == 201, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.original_location == "s3"
    assert bucket.keys() == [photo.original]
    data = (DATA / "formats/hopper.jpg").read_bytes()
    assert bucket.read(photo.original) == data
    assert photo.sha256 == hashlib.sha256(data).hexdigest()  # hashed as it streamed in
    assert media_files(media_root) == []


def test_a_render_reads_the_original_from_the_bucket_and_writes_variants_there(client_logged_in, bucket, media_root):
    photo_id = upload(client_logged_in).json()["id"]
    assert render_chain(photo_id) == "ready"
    photo = Photo.objects.prefetch_related("variants").get(pk=photo_id)
    variants = list(photo.variants.all())
    assert variants and {variant.location for variant in variants} == {"s3"}
    assert bucket.keys("variants/") == sorted(variant.file for variant in variants)
    assert photo.placeholder and photo.phash
    assert media_files(media_root) == []


def test_variants_redirect_to_one_presigned_url_per_window_and_it_serves_the_file(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    thumb = photo.variants_by_name["thumb"]
    first = client_logged_in.get(thumb.url)
    assert first.status_code == 302
    location = first["Location"]
    assert location.startswith(bucket.endpoint + "/")
    assert "X-Amz-Signature" in location
    assert first["Cache-Control"].startswith("private, max-age=")
    assert 0 < int(first["Cache-Control"].split("=")[1]) <= 3600
    assert client_logged_in.get(thumb.url)["Location"] == location  # the same URL: the browser's cache works
    with urllib.request.urlopen(location, timeout=10) as stored:
        assert stored.read() == bucket.read(thumb.file)
        assert stored.headers["Cache-Control"] == "private, max-age=31536000, immutable"  # stored with the object
        assert stored.headers["Content-Type"] == "image/webp"


def test_an_original_redirects_as_an_attachment(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    response = client_logged_in.get(f"/photos/{photo.pk}/original/")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response-content-disposition"][0].startswith("attachment;")
    assert query["response-content-type"] == ["image/jpeg"]
    with urllib.request.urlopen(response["Location"], timeout=10) as answer:
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert answer.read() == (DATA / "formats/hopper.jpg").read_bytes()


def test_anonymous_callers_get_the_login_page_never_a_redirect_to_storage(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    anonymous = Client()
    for url in (photo.variants_by_name["thumb"].url, f"/photos/{photo.pk}/original/"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
        assert bucket.endpoint not in response["Location"]
    token_less = anonymous.get(photo.variants_by_name["thumb"].url, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bucket.endpoint not in token_less.get("Location", "")


def test_the_api_token_holder_reaches_every_variant_url(client_logged_in, user, bucket):
    photo = ready_photo(client_logged_in)
    _, secret = ApiToken.issue(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    detail = api.get(f"/api/images/{photo.pk}/").json()
    urls = [variant["url"] for variant in detail["variants"]]
    assert urls
    for url in urls:
        response = api.get(urlsplit(url).path)
        assert response.status_code == 302, url
        assert fetch(response["Location"])[:4] in (
            b"RIFF",
            b"\xff\xd8\xff\xe0",
            b"\xff\xd8\xff\xe1",
            b"\xff\xd8\xff\xdb",
        )


def test_with_redirects_off_the_app_streams_the_object(client_logged_in, bucket, settings):
    settings.GLOWWORM_MEDIA_REDIRECT = False
    photo = ready_photo(client_logged_in)
    thumb = photo.variants_by_name["thumb"]
    response = client_logged_in.get(thumb.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == bucket.read(thumb.file)
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    original = client_logged_in.get(f"/photos/{photo.pk}/original/")
    assert original["Content-Disposition"].startswith("attachment;")
    assert b"".join(original.streaming_content) == (DATA / "formats/hopper.jpg").read_bytes()


def test_names_outside_the_variants_folder_are_refused(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    for name in (photo.original, "variants/../" + photo.original, "variants/%2e%2e/x.webp"):
        assert client_logged_in.get(f"/media/{name}").status_code == 404, name


def test_a_share_link_redirects_only_for_its_own_files(client_logged_in, user, bucket):
    inside = ready_photo(client_logged_in)
    outside = ready_photo(client_logged_in, "formats/exif_gps.jpg")
    album = albums.create_album(name="Shared", owner=user)
    albums.add_photos(album=album, photo_ids=[inside.pk])
    link = links.create_link(album=album, user=user, allow_download=True)
    base = link.get_absolute_url()
    preview = inside.variants_by_name["preview"]
    response = Client().get(f"{base}v/{preview.pk}/{preview.basename}")
    assert response.status_code == 302 and response["Location"].startswith(bucket.endpoint)
    other = outside.variants_by_name["preview"]
    assert Client().get(f"{base}v/{other.pk}/{other.basename}").status_code == 404
    download = Client().get(f"{base}download/{inside.pk}/")  # stripped from a copy of the original in the bucket
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"\xff\xd8"


def test_a_zip_streams_the_originals_from_the_bucket(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    response = client_logged_in.post("/photos/bulk/", {"action": "download", "photo": [photo.pk]})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert [archive.read(name) for name in archive.namelist()] == [(DATA / "formats/hopper.jpg").read_bytes()]


def test_the_content_security_policy_lets_images_come_from_the_bucket(client_logged_in, bucket):
    policy = client_logged_in.get("/")["Content-Security-Policy"]
    img_src = next(part for part in policy.split("; ") if part.startswith("img-src"))
    assert bucket.endpoint in img_src.split()


def test_a_bucket_that_cannot_be_reached_refuses_the_upload_with_503_and_keeps_nothing(
    client_logged_in, bucket, settings, media_root
):
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    response = upload(client_logged_in)
    assert response.status_code == 503
    assert "cannot be reached" in response.json()["error"]
    assert not Photo.all_objects.exists()
    assert media_files(media_root) == []


def test_an_upload_whose_row_fails_leaves_no_object(client_logged_in, bucket, monkeypatch):
    def broken_save(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Photo, "save", broken_save)
    with pytest.raises(RuntimeError):
        upload(client_logged_in)
    assert bucket.keys() == []


def test_a_bucket_lost_mid_render_is_retried_and_the_photo_is_kept(
    client_logged_in, bucket, settings, redis_conn, monkeypatch
):
    photo_id = upload(client_logged_in).json()["id"]
    # Run as RQ would, as the photo's own job: its retry is that same job id.
    monkeypatch.setattr(jobs, "get_current_job", lambda: SimpleNamespace(id=jobs.render_job_id(photo_id)))
    endpoint = settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    assert isinstance(jobs.render_photo(photo_id), Retry)
    photo = Photo.all_objects.get(pk=photo_id)
    assert photo.status == Photo.Status.PROCESSING and not photo.error
    assert bucket.keys("originals/") == [photo.original]
    settings.AWS_S3_ENDPOINT_URL = endpoint
    assert render_chain(photo_id) == "ready"


def test_a_missing_original_in_the_bucket_fails_the_photo_with_the_reason(client_logged_in, bucket, redis_conn):
    photo_id = upload(client_logged_in).json()["id"]
    bucket.client.delete_object(Bucket=bucket.name, Key=Photo.objects.get(pk=photo_id).original)
    assert jobs.render_photo(photo_id) == "failed"
    assert Photo.all_objects.get(pk=photo_id).error == "The original file is missing."


def test_a_rerender_retires_the_old_variant_from_the_bucket(client_logged_in, bucket, settings):
    settings.GLOWWORM_REPLACED_FILE_GRACE = 0
    photo = ready_photo(client_logged_in)
    old = {variant.file for variant in photo.variants.all()}
    jobs.requeue(photo.pk)
    assert render_chain(photo.pk) == "ready"
    new = set(Variant.objects.filter(photo=photo).values_list("file", flat=True))
    assert not old & new
    assert bucket.keys("variants/") == sorted(new)


def test_a_purge_deletes_the_objects(client_logged_in, bucket, django_capture_on_commit_callbacks):
    photo = ready_photo(client_logged_in)
    with django_capture_on_commit_callbacks(execute=True):
        trash.purge_photos(photo_ids=[photo.pk])
    assert bucket.keys() == []


def test_without_a_bucket_files_stay_local(client_logged_in, media_root):
    photo = ready_photo(client_logged_in)
    assert photo.original_location == "local"
    assert {variant.location for variant in photo.variants.all()} == {"local"}
    assert storage.media_path(photo.original).is_file()
    assert client_logged_in.get(photo.variants_by_name["thumb"].url).status_code == 200


def test_a_frame_gets_presigned_redirects_only_for_its_playlists_photos(client_logged_in, bucket):
    shown, other = ready_photo(client_logged_in), ready_photo(client_logged_in, "formats/exif_gps.jpg")
    playlist = Playlist.objects.create(name="Hall")
    PlaylistItem.objects.create(playlist=playlist, photo=shown)
    frame_client, _ = paired_frame_client(client_logged_in, playlist)
    src = frame_client.get("/frame/state/").json()["slides"][0]["photos"][0]["src"]
    response = frame_client.get(src)
    assert response.status_code == 302 and response["Location"].startswith(bucket.endpoint)
    assert fetch(response["Location"])[:4] == b"RIFF"
    assert frame_client.get(variant_url(other.variants.get(name="preview"))).status_code == 404
    assert frame_client.get(f"/photos/{shown.pk}/original/")["Location"].startswith("/login/")


def test_download_as_shown_reads_the_largest_variant_from_the_bucket(client_logged_in, bucket):
    photo = ready_photo(client_logged_in)
    response = client_logged_in.get(f"/photos/{photo.pk}/download/")
    largest = max(photo.variants.all(), key=lambda v: v.width * v.height)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == bucket.read(largest.file)


def test_a_presigned_url_is_reused_within_its_window_and_renewed_after(bucket, settings, monkeypatch):
    settings.GLOWWORM_MEDIA_URL_WINDOW = 3600
    bucket.client.put_object(Bucket=bucket.name, Key="variants/ab/x-thumb-1.webp", Body=b"RIFF")
    start = 1_800_000_000 // 3600 * 3600  # the start of a window
    monkeypatch.setattr(storage, "clock", lambda: start + 10)
    first, left = storage.presigned_url("variants/ab/x-thumb-1.webp")
    assert left == 3590
    monkeypatch.setattr(storage, "clock", lambda: start + 3500)
    assert storage.presigned_url("variants/ab/x-thumb-1.webp") == (first, 100)
    monkeypatch.setattr(storage, "clock", lambda: start + 3600 + 5)
    renewed, left = storage.presigned_url("variants/ab/x-thumb-1.webp")
    assert renewed != first and left == 3595
    expires = int(parse_qs(urlsplit(renewed).query)["X-Amz-Expires"][0])
    assert expires == 3595 + 3600  # valid a whole window past the one it was made in


def test_a_large_upload_goes_to_the_bucket_in_parts(client_logged_in, bucket, settings, tmp_path):
    settings.AWS_S3_TRANSFER_CONFIG = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)
    path = tmp_path / "large.jpg"
    Image.effect_noise((2600, 2600), 120).convert("RGB").save(path, quality=98)
    assert path.stat().st_size > 5 * 2**20
    with open(path, "rb") as handle:
        response = client_logged_in.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    head = bucket.client.head_object(Bucket=bucket.name, Key=photo.original)
    etag = head["ETag"].strip('"')
    assert "-" in etag and int(etag.rsplit("-", 1)[1]) >= 2  # a multipart upload's ETag ends with its part count
    assert bucket.read(photo.original) == path.read_bytes()


def test_a_custom_domain_is_where_browsers_are_sent_and_what_the_csp_allows(client_logged_in, bucket, settings):
    photo = ready_photo(client_logged_in)
    public = bucket.endpoint.replace("127.0.0.1", "localhost")  # the same server, by the name browsers use
    settings.AWS_S3_CUSTOM_DOMAIN = public.removeprefix("http://")
    settings.AWS_S3_URL_PROTOCOL = "http:"
    thumb = photo.variants_by_name["thumb"]
    location = client_logged_in.get(thumb.url)["Location"]
    assert location.startswith(f"{public}/{bucket.name}/variants/")
    assert fetch(location) == bucket.read(thumb.file)
    policy = client_logged_in.get("/")["Content-Security-Policy"]
    img_src = next(part for part in policy.split("; ") if part.startswith("img-src")).split()
    assert public in img_src and bucket.endpoint not in img_src


def test_a_deleted_variant_answers_404_not_a_redirect_and_a_retired_one_is_served_until_deleted(
    client_logged_in, bucket, settings, django_capture_on_commit_callbacks
):
    settings.GLOWWORM_REPLACED_FILE_GRACE = 600
    photo = ready_photo(client_logged_in)
    old = photo.variants_by_name["thumb"]
    jobs.requeue(photo.pk)
    assert render_chain(photo.pk) == "ready"
    assert not Variant.objects.filter(file=old.file).exists()  # replaced; its file waits out the grace
    assert client_logged_in.get(old.url).status_code == 302
    current = Variant.objects.get(photo=photo, name="preview")
    with django_capture_on_commit_callbacks(execute=True):
        trash.purge_photos(photo_ids=[photo.pk])
    storage.delete_file(old.file, "s3")  # as the delayed deletion does
    assert client_logged_in.get(old.url).status_code == 404
    assert client_logged_in.get(current.url).status_code == 404  # purged with its photo
