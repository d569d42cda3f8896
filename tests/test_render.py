"""The render job: called directly, and through a real RQ worker process."""

import shutil

import django_rq
import pytest
from PIL import Image

from gallery import storage
from gallery.models import Photo, Variant
from processing import jobs
from tests.conftest import DATA, render_chain


def make_photo(media_root, source, **fields) -> Photo:
    photo = Photo(
        sha256=fields.pop("sha256", source.name.ljust(64, "0")[:64]), format="JPEG", file_size=1, width=1, height=1
    )
    photo.original = storage.original_name_for(photo.key.hex, "JPEG")
    target = media_root / photo.original
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    for name, value in fields.items():
        setattr(photo, name, value)
    photo.save()
    return photo


@pytest.mark.django_db
def test_render_job_makes_every_spec_and_marks_ready(media_root):
    photo = make_photo(media_root, DATA / "photos" / "portrait_orientation_6.jpg")
    assert render_chain(photo.pk) == "ready"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY and photo.error == ""
    assert (photo.width, photo.height) == (1200, 1800)
    assert photo.placeholder.startswith("data:image/") and len(photo.phash) == 16
    names = set(photo.variants.values_list("name", flat=True))
    assert names == {spec.name for spec in jobs.current_specs()}
    thumb = photo.variants.get(name="thumb")
    with Image.open(media_root / thumb.file) as image:
        assert image.height > image.width  # a portrait phone photo gives a portrait thumbnail
        assert image.size == (thumb.width, thumb.height)
        assert (media_root / thumb.file).stat().st_size == thumb.bytes


@pytest.mark.django_db
def test_second_run_of_a_render_job_is_harmless(media_root):
    photo = make_photo(media_root, DATA / "formats" / "hopper.jpg")
    render_chain(photo.pk)
    files = set(Variant.objects.values_list("file", flat=True))
    assert render_chain(photo.pk) != "ready"  # not queued any more: nothing claimed, nothing changed
    assert set(Variant.objects.values_list("file", flat=True)) == files
    assert all((media_root / name).is_file() for name in files)


@pytest.mark.django_db
def test_rerender_replaces_variant_files_without_orphans(media_root, settings):
    settings.GLOWWORM_REPLACED_FILE_GRACE = 0  # delete replaced files at once (the grace period: test_reprocess)
    photo = make_photo(media_root, DATA / "formats" / "hopper.jpg")
    render_chain(photo.pk)
    old_files = set(Variant.objects.values_list("file", flat=True))
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.QUEUED)
    render_chain(photo.pk)
    new_files = set(Variant.objects.values_list("file", flat=True))
    assert not old_files & new_files
    on_disk = {str(path.relative_to(media_root)) for path in (media_root / "variants").rglob("*") if path.is_file()}
    assert on_disk == new_files


@pytest.mark.django_db
def test_render_job_marks_a_damaged_image_failed_with_a_reason(media_root):
    photo = make_photo(media_root, DATA / "bad" / "truncated_jpeg.jpg")
    render_chain(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert photo.error.startswith("The image is damaged or cut short and cannot be read (image file is truncated")
    assert not Variant.objects.exists()


@pytest.mark.django_db
def test_render_job_with_missing_original_fails_with_a_reason(media_root):
    photo = make_photo(media_root, DATA / "formats" / "hopper.jpg")
    (media_root / photo.original).unlink()
    render_chain(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED and "missing" in photo.error


def test_uploads_are_rendered_by_a_real_worker(client_logged_in, run_worker, redis_conn):
    ids = []
    for name in ("landscape_orientation_3.jpg", "portrait_orientation_8.jpg"):
        with open(DATA / "photos" / name, "rb") as handle:
            response = client_logged_in.post("/api/images/", {"file": handle})
        assert response.status_code == 201
        ids.append(response.json()["id"])
    assert django_rq.get_queue("thumbs").count == 2  # enqueued on commit; their variant stages follow
    run_worker()
    for pk, upright in zip(ids, [(1800, 1200), (1200, 1800)], strict=True):
        body = client_logged_in.get(f"/api/images/{pk}/").json()
        assert body["status"] == "ready", body
        thumb = next(v for v in body["variants"] if v["name"] == "thumb")
        assert (thumb["width"] > thumb["height"]) == (upright[0] > upright[1])
        image = client_logged_in.get(thumb["url"])
        assert image.status_code == 200 and image["Content-Type"] == "image/webp"


@pytest.mark.django_db
def test_photo_requeued_during_its_render_is_rendered_again_by_the_same_job(media_root, monkeypatch):
    """A rotate during a render: the running job must pick it up, or the photo would wait for the sweeper."""
    photo = make_photo(media_root, DATA / "photos" / "landscape_orientation_1.jpg")
    real_save_variant = jobs.save_variant
    rotated = []

    def save_variant_and_rotate_once(photo_, output):
        if not rotated:
            rotated.append(True)
            Photo.objects.filter(pk=photo_.pk).update(status=Photo.Status.QUEUED, rotation=90)
        return real_save_variant(photo_, output)

    monkeypatch.setattr(jobs, "save_variant", save_variant_and_rotate_once)
    assert render_chain(photo.pk) == "ready"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
    assert (photo.width, photo.height) == (1200, 1800)  # the turn was rendered, not left waiting
    preview = photo.variants.get(name="preview")
    assert preview.height > preview.width
