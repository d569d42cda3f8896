"""Album pages: renaming answers a clash at the field, and the picker that adds photos from the library."""

import re

import pytest
from django.utils import timezone

from gallery import albums
from gallery.library import Cursor
from gallery.models import AlbumPhoto, Photo
from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


def test_a_rename_that_clashes_is_answered_at_the_field_with_the_name_kept(client_logged_in):
    albums.create_album(name="Iceland")
    norway = albums.create_album(name="Norway")
    response = client_logged_in.post(f"/albums/{norway.pk}/rename/", {"name": "ICELAND"})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<p class="field-error" id="id_name_error">There is an album named “Iceland” already' in html
    assert 'value="ICELAND"' in html and 'aria-invalid="true"' in html
    assert '<details class="album-settings" open>' in html


@pytest.mark.parametrize("count", [3, 30])
def test_the_picker_marks_what_is_in_the_album_in_a_fixed_number_of_queries(
    client_logged_in, django_assert_num_queries, count
):
    photos = [make_photo_row(taken_at=aware(2024, 1 + n % 12, 1 + n % 28)) for n in range(count)]
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[photos[0].pk])
    client_logged_in.get("/")
    # session + user, album, page ids, photos, variants, members, count, filter albums
    with django_assert_num_queries(9):
        html = client_logged_in.get(f"/albums/{album.pk}/add/").content.decode()
    assert len(re.findall(r'<figure class="tile', html)) == count
    assert html.count("In the album") == 1
    cursor = Cursor(aware(2030, 1, 1), 10**9).encode()
    with django_assert_num_queries(7):  # next page: session + user, album, page ids, photos, variants, members
        client_logged_in.get(f"/albums/{album.pk}/add/?before={cursor}", HTTP_HX_REQUEST="true")


def test_an_albums_page_and_delete_page_count_its_photos_without_those_in_the_trash(client_logged_in):
    album = albums.create_album(name="Trip")
    kept, trashed = make_photo_row(), make_photo_row()
    for photo in (kept, trashed, make_photo_row()):
        AlbumPhoto.objects.create(album=album, photo=photo)
    Photo.objects.filter(pk=trashed.pk).update(trashed_at=timezone.now())
    assert AlbumPhoto.objects.filter(album=album).count_in_library() == 2
    assert client_logged_in.get(f"/albums/{album.pk}/").context["photo_count"] == 2
    assert client_logged_in.get(f"/albums/{album.pk}/delete/").context["photo_count"] == 2
