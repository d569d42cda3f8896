"""The Django admin: photo list and detail, actions that re-render, albums with counts, the RQ dashboard."""

from __future__ import annotations

import re
from urllib.parse import quote

import django_rq
import pytest
from django.test import Client
from django.urls import reverse
from rq.job import Job
from rq.serializers import JSONSerializer

from gallery import storage
from gallery.models import CAPTION_MAX_LENGTH, Album, DisplaySize, Photo
from processing import jobs
from tests import private_redis
from tests.conftest import ready_photo
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db

# Fixtures: a Redis server of this module's own (see tests/private_redis.py).
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
run_worker = private_redis.run_worker


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery")
    staff = Client()
    staff.force_login(admin)
    return staff


def test_photo_list_shows_thumbnail_status_camera_size_with_filters(
    staff_client, redis_conn, django_assert_max_num_queries
):
    photos = [ready_photo(staff_client), ready_photo(staff_client, "formats/exif_gps.jpg")]
    trip = Album.objects.create(name="Trip")
    trip.photos.add(photos[0])
    with django_assert_max_num_queries(15):
        response = staff_client.get(reverse("admin:gallery_photo_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    thumb = photos[0].variants.get(name="thumb")
    assert f'src="{thumb.url}"' in html
    assert "Ready" in html and "128 × 128" in html
    for filter_title in ("By status", "By album", "By format", "By camera model", "By taken at", "By created at"):
        assert filter_title in html
    assert '<nav class="toplinks">' in html  # the date hierarchy bar

    searched = staff_client.get(reverse("admin:gallery_photo_changelist"), {"q": "exif_gps"}).content.decode()
    assert "exif_gps.jpg" in searched and "hopper.jpg" not in searched
    by_album = staff_client.get(
        reverse("admin:gallery_photo_changelist"), {"albums__id__exact": trip.pk}
    ).content.decode()
    assert "hopper.jpg" in by_album and "exif_gps.jpg" not in by_album


def test_photo_page_shows_variants_with_bytes_and_read_only_metadata(staff_client, redis_conn):
    photo = ready_photo(staff_client)
    html = staff_client.get(reverse("admin:gallery_photo_change", args=[photo.pk])).content.decode()
    preview = photo.variants.get(name="preview")
    assert f"{preview.bytes:,} bytes" in html
    assert "Metadata (read from the file)" in html
    assert 'name="camera_model"' not in html and 'name="status"' not in html  # read-only
    assert 'name="original_name"' in html  # the display name may be corrected


def test_the_caption_is_edited_in_the_admin_within_its_length(staff_client):
    photo = make_photo_row(original_name="puffins.jpg")
    url = reverse("admin:gallery_photo_change", args=[photo.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="caption"' in page
    # The variants inline's management form, as the browser would send it back.
    form = dict(re.findall(r'<input[^>]*name="(variants-[^"]+)"[^>]*value="([^"]*)"', page))
    form["original_name"] = "puffins.jpg"

    too_long = staff_client.post(url, {**form, "caption": "x" * (CAPTION_MAX_LENGTH + 1)})
    assert too_long.status_code == 200 and "at most 2000 characters" in too_long.content.decode()
    photo.refresh_from_db()
    assert photo.caption == ""
    saved = staff_client.post(url, {**form, "caption": "Látrabjarg\r\nsecond day"})
    assert saved.status_code == 302
    photo.refresh_from_db()
    assert photo.caption == "Látrabjarg\nsecond day"  # the form's line breaks, normalised
    found = staff_client.get(reverse("admin:gallery_photo_changelist"), {"q": "látrabjarg"})
    assert found.context["cl"].result_count == 1


def test_reprocess_thumbnails_action_queues_a_thumbnail_only_render(
    staff_client, redis_conn, django_capture_on_commit_callbacks
):
    photo = ready_photo(staff_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:gallery_photo_changelist"),
            {"action": "reprocess_thumbnails", "_selected_action": [photo.pk]},
            follow=True,
        )
    assert "Queued new thumbnails for 1 photo." in response.content.decode()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.QUEUED
    job = Job.fetch(jobs.render_job_id(photo.pk), connection=redis_conn, serializer=JSONSerializer)
    assert job.kwargs == {"stages": ["thumbnail"], "origin": "bulk"}  # an operator's render: the bulk queue
    assert django_rq.get_queue("bulk").get_job_ids() == [job.id]


def test_retry_failed_action_requeues_only_failed_photos(staff_client, redis_conn, django_capture_on_commit_callbacks):
    ok = ready_photo(staff_client)
    failed = ready_photo(staff_client, "formats/hopper_gray.jpg")
    Photo.objects.filter(pk=failed.pk).update(status=Photo.Status.FAILED, error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:gallery_photo_changelist"),
            {"action": "retry_failed", "_selected_action": [ok.pk, failed.pk]},
            follow=True,
        )
    html = response.content.decode()
    assert "Queued a retry for 1 photo." in html and "1 selected photo had not failed" in html
    assert Photo.objects.get(pk=failed.pk).status == Photo.Status.QUEUED
    assert Photo.objects.get(pk=ok.pk).status == Photo.Status.READY
    assert django_rq.get_queue("bulk").get_job_ids() == [jobs.render_job_id(failed.pk)]


def test_deleting_in_the_admin_moves_to_the_trash_and_the_admin_restores(
    staff_client, redis_conn, media_root, django_capture_on_commit_callbacks
):
    photo = ready_photo(staff_client)
    paths = [storage.media_path(photo.original), *(storage.media_path(v.file) for v in photo.variants.all())]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:gallery_photo_delete", args=[photo.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Photo.objects.exists() and Photo.all_objects.get().trashed_at is not None
    assert all(path.is_file() for path in paths)  # files stay until the purge
    changelist = reverse("admin:gallery_photo_changelist")
    assert str(photo) in staff_client.get(changelist + "?trashed=1").content.decode()
    assert str(photo) not in staff_client.get(changelist + "?trashed=0").content.decode()
    response = staff_client.post(
        changelist, {"action": "restore_from_trash", "_selected_action": [photo.pk]}, follow=True
    )
    assert "Restored 1 photo from the trash." in response.content.decode()
    assert Photo.objects.get().pk == photo.pk


def test_album_list_shows_photo_counts(staff_client, redis_conn):
    photos = [ready_photo(staff_client), ready_photo(staff_client, "formats/hopper_gray.jpg")]
    Album.objects.create(name="Both").photos.add(*photos)
    Album.objects.create(name="Empty")
    html = staff_client.get(reverse("admin:gallery_album_changelist")).content.decode()
    assert '<td class="field-photo_count">2</td>' in html
    assert '<td class="field-photo_count">0</td>' in html


def test_admin_index_links_the_rq_dashboard_which_is_staff_only(staff_client, client_logged_in, client, redis_conn):
    dashboard = reverse("django_rq:home")
    assert dashboard == "/admin/rq/"
    assert f'href="{dashboard}"' in staff_client.get(reverse("admin:index")).content.decode()
    assert staff_client.get(dashboard).status_code == 200
    assert staff_client.get(reverse("django_rq:failed_jobs", args=[0])).status_code == 200


def test_rq_dashboard_refuses_logged_in_non_staff_and_anonymous(client, django_user_model, redis_conn):
    from django.urls import get_resolver

    member = django_user_model.objects.create_user("bob", "bob@example.com", "correct horse battery")

    resolver = get_resolver()
    rq_patterns = next(p for p in resolver.url_patterns if str(p.pattern) == "admin/rq/")
    urls = []
    for pattern in rq_patterns.url_patterns:
        route = str(pattern.pattern).lstrip("^").rstrip("$").replace("/?", "/")
        for name, value in (
            ("<int:queue_index>", "0"),
            ("<int:scheduler_index>", "0"),
            ("<int:connection_index>", "0"),
            ("<str:job_id>", "render-photo-1"),
            ("<str:result_id>", "1"),
            ("<str:key>", "rq:worker:x"),
            ("<str:scheduler_name>", "x"),
            ("<path:cron_job_name>", "x"),
            ("(?P<token>[\\w]+)?/", ""),
        ):
            route = route.replace(name, value)
        urls.append("/admin/rq/" + route)
    assert len(urls) >= 20

    # Sent to a login, never shown: the dashboard can empty and requeue queues. Anonymous users meet the site's
    # login first or the admin's; a member who is logged in but not staff is sent to the admin's (a staff login).
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"] in (f"/login/?next={quote(url)}", f"/admin/login/?next={quote(url)}"), url

    client.force_login(member)
    for url in urls:
        response = client.get(url)
        if url == "/admin/rq/stats.json/":  # for monitoring: staff, or its own token (none is configured)
            assert response.status_code == 401, (url, response.status_code)
            continue
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"] == f"/admin/login/?next={quote(url)}", (url, response["Location"])


@pytest.mark.django_db
def test_frame_admin_lists_frames_without_their_secret(admin_client):
    from gallery.frames.models import Frame, Playlist

    playlist = Playlist.objects.create(name="Hall")
    frame = Frame.objects.create(name="Kitchen", playlist=playlist, secret_digest="f" * 64)
    assert "Kitchen" in admin_client.get("/admin/frames/frame/").content.decode()
    page = admin_client.get(f"/admin/frames/frame/{frame.pk}/change/").content.decode()
    assert "Kitchen" in page and "f" * 64 not in page


@pytest.mark.django_db
def test_playlist_admin_lists_settings_and_shows_items_in_order(admin_client):
    from gallery.frames.models import Playlist, PlaylistItem

    playlist = Playlist.objects.create(name="Hall", interval=45, transition="kenburns", shuffle=True)
    later, first = make_photo_row(original_name="later.jpg"), make_photo_row(original_name="first.jpg")
    PlaylistItem.objects.create(playlist=playlist, photo=later, position=2)
    PlaylistItem.objects.create(playlist=playlist, photo=first, position=1)
    html = admin_client.get("/admin/frames/playlist/").content.decode()
    assert f'<th class="field-name"><a href="/admin/frames/playlist/{playlist.pk}/change/">Hall</a></th>' in html
    assert '<td class="field-interval">45</td>' in html
    assert '<td class="field-transition">Ken Burns (slow zoom and pan)</td>' in html
    assert '<td class="field-shuffle"><img src="/static/admin/img/icon-yes.svg" alt="True"></td>' in html
    assert '<td class="field-captions"><img src="/static/admin/img/icon-no.svg" alt="False"></td>' in html

    page = admin_client.get(f"/admin/frames/playlist/{playlist.pk}/change/").content.decode()
    # The items inline, in playlist order: each names its photo (raw id plus a link) and its position.
    linked = re.findall(r'<a href="/admin/gallery/photo/(\d+)/change/">([^<]+)</a>', page)
    assert linked == [(str(first.pk), "first.jpg"), (str(later.pk), "later.jpg")]
    assert 'name="items-0-position" value="1"' in page and 'name="items-1-position" value="2"' in page
    assert f'name="items-0-photo" value="{first.pk}"' in page


@pytest.mark.django_db
def test_display_size_admin_lists_the_sizes_frames_added_and_adds_none_itself(admin_client):
    DisplaySize.objects.create(width=5120, height=2880)
    DisplaySize.objects.create(width=1280, height=1024)
    html = admin_client.get("/admin/gallery/displaysize/").content.decode()
    rows = re.findall(
        r'<th class="field-width"><a href="/admin/gallery/displaysize/\d+/change/">(\d+)</a></th>'
        r'<td class="field-height">(\d+)</td>',
        html,
    )
    assert rows == [("1280", "1024"), ("5120", "2880")]  # ordered by width, then height
    assert "/admin/gallery/displaysize/add/" not in html  # sizes come from frames' screens, not by hand
    assert admin_client.get("/admin/gallery/displaysize/add/").status_code == 403
