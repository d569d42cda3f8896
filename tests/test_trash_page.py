"""The trash page and its POSTs: restore (every Undo), delete forever after a confirmation, empty the trash."""

import re

import pytest
from pytest_django.asserts import assertContains

from gallery import trash
from gallery.models import Photo
from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


def tile_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<figure class="tile[^"]*" id="photo-(\d+)"', html)]


def test_the_trash_lists_what_was_deleted_with_the_days_it_has_left(client_logged_in, settings):
    settings.GLOWWORM_TRASH_DAYS = 14
    kept, gone = make_photo_row(), make_photo_row()
    trash.trash_photos(photo_ids=[gone.pk])
    html = client_logged_in.get("/trash/").content.decode()
    assert tile_ids(html) == [gone.pk]
    assert "Photos stay here for 14 days" in html and "14 days left" in html
    assert f'href="/photos/{gone.pk}/"' not in html  # a trashed photo has no page: a click selects it
    assert tile_ids(client_logged_in.get("/").content.decode()) == [kept.pk]


@pytest.mark.parametrize("count", [3, 30])
def test_trash_page_query_count_does_not_grow(client_logged_in, django_assert_num_queries, count):
    photos = [make_photo_row(taken_at=aware(2024, 1 + n % 12, 1 + n % 28)) for n in range(count)]
    trash.trash_photos(photo_ids=[p.pk for p in photos])
    client_logged_in.get("/")
    with django_assert_num_queries(6):  # session + user, page ids, photos, variants, count
        assert len(tile_ids(client_logged_in.get("/trash/").content.decode())) == count


def test_restore_answers_a_script_with_the_tiles_and_a_toast(client_logged_in):
    photos = [make_photo_row() for _ in range(3)]
    trash.trash_photos(photo_ids=[p.pk for p in photos[:2]])
    response = client_logged_in.post(
        "/trash/restore/", {"ids": f"{photos[0].pk},{photos[1].pk}"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and sorted(tile_ids(html)) == sorted(p.pk for p in photos[:2])
    assert "Restored 2 photos." in html and "data-toast" in html
    assert 'data-sort="' in html and 'data-month="' in html  # where the page puts them back
    assert Photo.objects.count() == 3


def test_delete_forever_asks_first_without_javascript(client_logged_in, media_root):
    photo = make_photo_row()
    trash.trash_photos(photo_ids=[photo.pk])
    asked = client_logged_in.post("/trash/purge/", {"photo": [photo.pk]})
    assertContains(asked, "<h1>Delete 1 photo forever?</h1>", html=True)
    assert Photo.all_objects.filter(pk=photo.pk).exists()
    response = client_logged_in.post("/trash/purge/", {"ids": str(photo.pk), "confirmed": "1"})
    assert response.status_code == 302 and not Photo.all_objects.filter(pk=photo.pk).exists()


def test_delete_forever_leaves_photos_that_are_not_in_the_trash(client_logged_in):
    photo = make_photo_row()
    client_logged_in.post("/trash/purge/", {"ids": str(photo.pk), "confirmed": "1"})
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_empty_trash_names_the_count_and_asks_again_when_it_changed(client_logged_in):
    photos = [make_photo_row() for _ in range(3)]
    trash.trash_photos(photo_ids=[p.pk for p in photos[:2]])
    page = client_logged_in.get("/trash/empty/")
    assertContains(page, "<h1>Empty the trash?</h1>", html=True)
    assertContains(page, "Delete 2 photos forever")
    trash.trash_photos(photo_ids=[photos[2].pk])  # meanwhile, in another tab
    again = client_logged_in.post("/trash/empty/", {"count": "2", "confirmed": "1"})
    assert again.status_code == 200 and "The trash changed meanwhile." in again.content.decode()
    assert Photo.all_objects.count() == 3
    response = client_logged_in.post("/trash/empty/", {"count": "3", "confirmed": "1"})
    assert response.status_code == 302 and Photo.all_objects.count() == 0


def test_select_all_is_resolved_on_the_server_from_the_scope(client_logged_in):
    photos = [make_photo_row() for _ in range(5)]
    client_logged_in.post(
        "/photos/bulk/", {"action": "delete", "scope": "library", "exclude": str(photos[0].pk)}, HTTP_HX_REQUEST="true"
    )
    assert list(Photo.objects.values_list("pk", flat=True)) == [photos[0].pk]
    client_logged_in.post("/trash/restore/", {"scope": "trash"}, HTTP_HX_REQUEST="true")
    assert Photo.objects.count() == 5


def test_an_undo_is_offered_after_every_delete(client_logged_in):
    photo, first, second = (
        make_photo_row(),
        make_photo_row(phash="ffff0000ffff0000"),
        make_photo_row(phash="ffff0000ffff0001"),
    )
    answers = [
        client_logged_in.post(f"/photos/{photo.pk}/delete/", HTTP_HX_REQUEST="true"),
        client_logged_in.post(
            "/duplicates/",
            {"group": [first.pk, second.pk], "keep": [first.pk], "confirmed": "1"},
            HTTP_HX_REQUEST="true",
        ),
    ]
    for response, gone in zip(answers, (photo, second), strict=True):
        html = response.content.decode()
        assert 'action="/trash/restore/"' in html and f'name="ids" value="{gone.pk}"' in html
