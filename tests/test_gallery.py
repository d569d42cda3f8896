import io
import re
import zipfile
from datetime import date

import pytest
from pytest_django.asserts import assertContains

from gallery import library
from gallery.models import Photo, Variant
from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


def tile_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<figure class="tile[^"]*" id="photo-(\d+)"', html)]


def test_library_is_newest_first_by_date_taken_else_upload_time_grouped_by_month(client_logged_in):
    may = make_photo_row(taken_at=aware(2024, 5, 20))
    march = make_photo_row(taken_at=aware(2024, 3, 2))
    undated = make_photo_row(taken_at=None, created_at=aware(2024, 4, 10))
    may_early = make_photo_row(taken_at=aware(2024, 5, 1))

    html = client_logged_in.get("/").content.decode()

    assert tile_ids(html) == [may.pk, may_early.pk, undated.pk, march.pk]
    assert re.findall(r'class="month-head"[^>]*>([^<]+)<', html) == ["May 2024", "April 2024", "March 2024"]


def test_tiles_have_srcset_lazy_loading_placeholder_and_size(client_logged_in):
    make_photo_row(taken_at=aware(2024, 5, 20))
    html = client_logged_in.get("/").content.decode()
    assert 'class="tile-placeholder" src="data:image/webp;base64,' in html
    image = re.search(r'<img class="tile-image"[^>]*>', html, re.S).group(0)
    assert "srcset=" in image and " 2x" in image
    assert 'loading="lazy"' in image and 'width="400"' in image and 'height="267"' in image
    assert 'alt="IMG_' in image


@pytest.mark.parametrize("count", [5, 60])
def test_library_page_query_count_does_not_grow_with_page_size(
    client_logged_in, django_assert_num_queries, count, monkeypatch
):
    monkeypatch.setattr("gallery.views.timezone.localdate", lambda: date(2031, 12, 31))  # no "on this day" photos
    for day in range(count):
        make_photo_row(taken_at=aware(2024, 1 + day % 12, 1 + day % 28))
    client_logged_in.get("/")  # warm the session
    # session + user, totals, albums, the page's ids, photos, variants, the filter bar's albums, the scrubber's
    # months, on this day
    with django_assert_num_queries(10):
        response = client_logged_in.get("/")
    assert len(tile_ids(response.content.decode())) == count


def test_keyset_pages_cover_the_library_once_and_continue_months(client_logged_in, settings, monkeypatch):
    monkeypatch.setattr("gallery.views.PAGE_SIZE", 4)
    photos = [make_photo_row(taken_at=aware(2024, 6 - n // 4, 10, 12, n)) for n in range(10)]
    for _ in range(2):  # ties on the date are ordered by id
        photos.append(make_photo_row(taken_at=aware(2024, 6, 10, 12, 0)))
    expected = [p.pk for p in Photo.objects.library_order()]

    seen, url, pages = [], "/", 0
    while url:
        response = client_logged_in.get(url, HTTP_HX_REQUEST="true" if pages else None)
        html = response.content.decode()
        seen += tile_ids(html)
        if pages:
            assert "<html" not in html  # HTMX gets the fragment only
        match = re.search(r'href="(/\?before=[^"]+)"', html)
        url = match.group(1) if match else None
        pages += 1
    assert seen == expected and pages == 3


def test_next_page_does_not_repeat_the_month_heading_it_continues(client_logged_in, monkeypatch):
    monkeypatch.setattr("gallery.views.PAGE_SIZE", 2)
    for day in (3, 2, 1):
        make_photo_row(taken_at=aware(2024, 6, day))
    first = client_logged_in.get("/").content.decode()
    url = re.search(r'href="(/\?before=[^"]+)"', first).group(1)
    assert "June 2024" not in client_logged_in.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "June 2024" in client_logged_in.get(url).content.decode()  # a full page (no JS) names its month


def test_cursor_round_trips_exactly():
    cursor = library.Cursor(aware(2024, 5, 20, 10, 11, 12, 123456), 42)
    assert library.Cursor.decode(cursor.encode()) == cursor
    assert library.Cursor.decode("nonsense") is None


def test_photo_view_shows_details_and_neighbours(client_logged_in):
    newer = make_photo_row(taken_at=aware(2024, 5, 3))
    photo = make_photo_row(
        taken_at=aware(2024, 5, 2),
        camera_make="FUJIFILM",
        camera_model="X-T4",
        lens="XF23mmF2",
        exposure_time="1/250",
        aperture=2.8,
        iso=400,
        focal_length=23.0,
    )
    older = make_photo_row(taken_at=aware(2024, 5, 1))
    html = client_logged_in.get(f"/photos/{photo.pk}/").content.decode()
    for text in (
        "FUJIFILM X-T4",
        "XF23mmF2",
        "1/250 s · f/2.8 · ISO 400 · 23 mm",
        "1200 × 800 px",
        "120.6\xa0KB",
        "IMG_",
    ):
        assert text in html
    assert f'rel="prev" href="/photos/{newer.pk}/"' in html
    assert f'rel="next" href="/photos/{older.pk}/"' in html
    assert "-preview.webp" in html


def test_photo_view_within_an_album_browses_that_album(client_logged_in):
    from gallery import albums

    first, outside, second = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1))
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[first.pk, second.pk])
    html = client_logged_in.get(f"/photos/{first.pk}/?album={album.pk}").content.decode()
    assert f'href="/photos/{second.pk}/?album={album.pk}"' in html
    assert f"/photos/{outside.pk}/" not in html


def test_rotate_records_the_turn_swaps_size_and_requeues(client_logged_in, django_capture_on_commit_callbacks):
    photo = make_photo_row(width=1200, height=800)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_logged_in.post(f"/photos/{photo.pk}/rotate/", {"direction": "left"})
    assert response.status_code == 302
    photo.refresh_from_db()
    assert (photo.rotation, photo.width, photo.height, photo.status) == (270, 800, 1200, Photo.Status.QUEUED)
    assert len(callbacks) == 1  # the re-render is queued after commit
    client_logged_in.post(f"/photos/{photo.pk}/rotate/", {"direction": "right"})
    client_logged_in.post(f"/photos/{photo.pk}/rotate/", {"direction": "right"})
    photo.refresh_from_db()
    assert photo.rotation == 90


def test_retry_requeues_a_failed_photo_and_returns_its_tile(client_logged_in, django_capture_on_commit_callbacks):
    photo = make_photo_row(status=Photo.Status.FAILED, error="The image is damaged")
    html = client_logged_in.get("/").content.decode()
    assert "The image is damaged" in html and f'hx-post="/photos/{photo.pk}/retry/"' in html
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_logged_in.post(f"/photos/{photo.pk}/retry/", HTTP_HX_REQUEST="true")
    assert 'data-status="queued"' in response.content.decode()
    assert len(callbacks) == 1
    photo.refresh_from_db()
    assert photo.status == Photo.Status.QUEUED and photo.error == ""


def test_photo_delete_confirms_then_moves_it_to_the_trash(
    client_logged_in, media_root, django_capture_on_commit_callbacks
):
    photo = make_photo_row()
    (media_root / "originals").mkdir()
    (media_root / photo.original).write_bytes(b"jpeg")
    page = client_logged_in.get(f"/photos/{photo.pk}/delete/")
    assertContains(page, "<h1>Move this photo to the trash?</h1>", html=True)
    assertContains(
        page,
        f"<p><strong>{photo.original_name}</strong> leaves the library and every album. It can be restored from the "
        "trash, into the same albums, for 30 days.</p>",
        html=True,
    )
    thumb = photo.variants_by_name["thumb"]
    assert f'<img class="confirm-thumb" src="{thumb.url}"' in page.content.decode()  # which photo, at a glance
    assert f'<form method="post" action="/photos/{photo.pk}/delete/"' in page.content.decode()
    assertContains(page, '<button type="submit" class="button--danger">Move to trash</button>', html=True)
    assertContains(page, f'<a class="button button--quiet" href="/photos/{photo.pk}/">Cancel</a>', html=True)
    assert Photo.objects.filter(pk=photo.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_logged_in.post(f"/photos/{photo.pk}/delete/")
    assert response.status_code == 302
    assert not Photo.objects.filter(pk=photo.pk).exists()  # gone from the library
    assert Photo.all_objects.get(pk=photo.pk).trashed_at is not None and Variant.objects.count() == 3
    assert (media_root / photo.original).exists()  # files stay until the purge
    assert client_logged_in.get(f"/photos/{photo.pk}/").status_code == 404


def test_bulk_delete_moves_to_the_trash_and_the_message_offers_an_undo(client_logged_in):
    photos = [make_photo_row() for _ in range(3)]
    ids = [p.pk for p in photos[:2]]
    response = client_logged_in.post("/photos/bulk/", {"action": "delete", "photo": ids, "next": "/"}, follow=True)
    assert list(Photo.objects.all()) == [photos[2]]
    html = response.content.decode()
    assert "Moved 2 photos to the trash." in html
    undo = re.search(r'<form method="post" action="/trash/restore/"[^>]*data-undo>(.*?)</form>', html, re.S).group(1)
    assert f'name="ids" value="{ids[0]},{ids[1]}"' in undo
    client_logged_in.post("/trash/restore/", {"ids": f"{ids[0]},{ids[1]}", "next": "/"})
    assert Photo.objects.count() == 3


def test_bulk_rejects_an_offsite_next_url(client_logged_in):
    photo = make_photo_row()
    response = client_logged_in.post(
        "/photos/bulk/", {"action": "delete", "photo": [photo.pk], "confirmed": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_bulk_download_streams_a_zip_of_originals(client_logged_in, media_root):
    first = make_photo_row(original_name="beach.jpg")
    second = make_photo_row(original_name="beach.jpg")  # same name: made unique in the archive
    missing = make_photo_row(original_name="gone.jpg")
    (media_root / "originals").mkdir()
    (media_root / first.original).write_bytes(b"first" * 1000)
    (media_root / second.original).write_bytes(b"second")
    response = client_logged_in.post(
        "/photos/bulk/", {"action": "download", "photo": [first.pk, second.pk, missing.pk]}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["beach.jpg", "beach (2).jpg"]
    assert archive.read("beach.jpg") == b"first" * 1000
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    assert archive.testzip() is None


def test_zip_chunks_stay_small_whatever_the_file_size(media_root):
    (media_root / "originals").mkdir()
    (media_root / "originals" / "big.jpg").write_bytes(b"\xff" * (3 * 1024 * 1024))
    member = library.ZipMember("originals/big.jpg", "big.jpg", aware(2024, 1, 1))
    chunks = list(library.zip_chunks([member], read_size=64 * 1024))
    assert max(len(chunk) for chunk in chunks) < 128 * 1024
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).read("big.jpg") == b"\xff" * (3 * 1024 * 1024)


def test_duplicates_page_keeps_the_ticked_photo_and_deletes_the_rest(client_logged_in):
    keep = make_photo_row(phash="ffff0000ffff0000", width=4000, height=3000)
    copy = make_photo_row(phash="ffff0000ffff0001")
    other = make_photo_row(phash="0123456789abcdef")
    html = client_logged_in.get("/duplicates/").content.decode()
    assert "1 group " in html
    assert f'value="{keep.pk}" checked' in html  # the largest is suggested
    assert f"/photos/{other.pk}/" not in html
    asked = client_logged_in.post("/duplicates/", {"group": [keep.pk, copy.pk], "keep": [keep.pk]})
    assertContains(asked, "<h1>Move 1 photo to the trash?</h1>", html=True)
    assert Photo.objects.count() == 3  # nothing moved before the answer
    client_logged_in.post("/duplicates/", {"group": [keep.pk, copy.pk], "keep": [keep.pk], "confirmed": "1"})
    assert set(Photo.objects.values_list("pk", flat=True)) == {keep.pk, other.pk}
    assert Photo.all_objects.get(pk=copy.pk).trashed_at is not None  # to the trash, not gone


def test_duplicates_page_refuses_to_delete_a_whole_group(client_logged_in):
    first, second = make_photo_row(phash="ffff0000ffff0000"), make_photo_row(phash="ffff0000ffff0001")
    client_logged_in.post("/duplicates/", {"group": [first.pk, second.pk]})
    assert Photo.objects.count() == 2


@pytest.mark.parametrize(
    "url", ["/", "/albums/", "/duplicates/", "/photos/1/", "/photos/1/delete/", "/photos/bulk/", "/albums/1/"]
)
def test_gallery_pages_need_login(client, user, url):
    response = client.get(url) if url != "/photos/bulk/" else client.post(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_failed_photo_view_offers_a_retry_that_returns_to_the_photo(
    client_logged_in, django_capture_on_commit_callbacks
):
    photo = make_photo_row(status=Photo.Status.FAILED, error="The image is damaged")
    html = client_logged_in.get(f"/photos/{photo.pk}/").content.decode()
    assert "The image is damaged" in html and f'action="/photos/{photo.pk}/retry/"' in html
    with django_capture_on_commit_callbacks(execute=False):
        response = client_logged_in.post(f"/photos/{photo.pk}/retry/", {"next": f"/photos/{photo.pk}/"})
    assert response["Location"] == f"/photos/{photo.pk}/"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.QUEUED


def test_photo_view_prefetches_the_neighbours_previews(client_logged_in):
    newer, photo, older = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1))
    html = client_logged_in.get(f"/photos/{photo.pk}/").content.decode()
    for neighbour in (newer, older):
        assert f'<link rel="prefetch" href="{neighbour.variants_by_name["preview"].url}"' in html


def test_original_download_is_an_attachment_with_nosniff_for_logged_in_users_only(client_logged_in, media_root):
    photo = make_photo_row(original_name="holiday.jpg")
    (media_root / "originals").mkdir()
    (media_root / photo.original).write_bytes(b"\xff\xd8jpeg")
    response = client_logged_in.get(f"/photos/{photo.pk}/original/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="holiday.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"\xff\xd8jpeg"
    client_logged_in.logout()
    assert client_logged_in.get(f"/photos/{photo.pk}/original/").status_code == 302


@pytest.mark.parametrize("count", [3, 40])
def test_album_page_and_next_pages_have_fixed_query_counts(client_logged_in, django_assert_num_queries, count):
    from gallery import albums

    photos = [make_photo_row(taken_at=aware(2024, 1 + n % 12, 1 + n % 28)) for n in range(count)]
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[p.pk for p in photos])
    client_logged_in.get("/")
    # session + user, album, the page's ids, photos, variants, memberships and trashed members (counted apart, so
    # MariaDB need not join every photo), albums for the toolbar
    with django_assert_num_queries(9):
        assert len(tile_ids(client_logged_in.get(album.get_absolute_url()).content.decode())) == count
    cursor = library.Cursor(aware(2030, 1, 1), 10**9).encode()
    with django_assert_num_queries(5):  # session + user, the page's ids, photos, variants
        html = client_logged_in.get(f"/?before={cursor}", HTTP_HX_REQUEST="true").content.decode()
    assert len(tile_ids(html)) == count
