import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from pytest_django.asserts import assertContains

from gallery import albums
from gallery.models import Album, AlbumPhoto, Photo
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


def test_deleting_an_album_never_deletes_its_photos(client_logged_in, media_root):
    """The previous product deleted every photo of a deleted album. Never again."""
    photos = [make_photo_row() for _ in range(3)]
    album = albums.create_album(name="Holiday")
    other = albums.create_album(name="Best of")
    albums.add_photos(album=album, photo_ids=[p.pk for p in photos])
    albums.add_photos(album=other, photo_ids=[photos[0].pk])

    response = client_logged_in.post(f"/albums/{album.pk}/delete/")

    assert response.status_code == 302
    assert not Album.objects.filter(pk=album.pk).exists()
    assert Photo.objects.filter(pk__in=[p.pk for p in photos]).count() == 3
    assert list(other.photos.all()) == [photos[0]]
    assert AlbumPhoto.objects.count() == 1


def test_album_delete_asks_for_confirmation_first(client_logged_in):
    album = albums.create_album(name="Holiday")
    albums.add_photos(album=album, photo_ids=[make_photo_row().pk, make_photo_row().pk])
    response = client_logged_in.get(f"/albums/{album.pk}/delete/")
    assertContains(response, "<h1>Delete the album “Holiday”?</h1>", html=True)
    assertContains(
        response,
        "<p>The album goes away. Its 2 photos stay in your library and in any other album.</p>",
        html=True,
    )
    assert f'<form method="post" action="/albums/{album.pk}/delete/"' in response.content.decode()
    assertContains(response, '<button type="submit" class="button--danger">Delete album</button>', html=True)
    assertContains(response, f'<a class="button button--quiet" href="/albums/{album.pk}/">Cancel</a>', html=True)
    assert Album.objects.filter(pk=album.pk).exists() and album.photos.count() == 2

    single = albums.create_album(name="Solo")
    albums.add_photos(album=single, photo_ids=[make_photo_row().pk])
    assertContains(
        client_logged_in.get(f"/albums/{single.pk}/delete/"),
        "<p>The album goes away. Its 1 photo stays in your library and in any other album.</p>",
        html=True,
    )


def test_create_and_rename_album_through_views(client_logged_in):
    response = client_logged_in.post("/albums/", {"name": "  Summer  "})
    album = Album.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/albums/{album.pk}/"
    assert album.name == "Summer"
    client_logged_in.post(f"/albums/{album.pk}/rename/", {"name": "Summer 2026"})
    album.refresh_from_db()
    assert album.name == "Summer 2026"
    client_logged_in.post(f"/albums/{album.pk}/rename/", {"name": "   "})
    album.refresh_from_db()
    assert album.name == "Summer 2026"


def test_a_photo_can_be_in_many_albums_and_adding_twice_is_harmless():
    photo = make_photo_row()
    first, second = albums.create_album(name="A"), albums.create_album(name="B")
    assert albums.add_photos(album=first, photo_ids=[photo.pk]) == 1
    assert albums.add_photos(album=first, photo_ids=[photo.pk, 999_999]) == 0
    albums.add_photos(album=second, photo_ids=[photo.pk])
    assert set(photo.albums.values_list("name", flat=True)) == {"A", "B"}


def test_removing_photos_from_an_album_keeps_them_and_resets_a_removed_cover():
    kept, removed = make_photo_row(), make_photo_row()
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[kept.pk, removed.pk])
    albums.set_cover(album=album, photo=removed)
    assert albums.remove_photos(album=album, photo_ids=[removed.pk]) == 1
    album.refresh_from_db()
    assert album.cover is None
    assert Photo.objects.filter(pk=removed.pk).exists()
    assert list(album.photos.all()) == [kept]


def test_cover_is_chosen_or_the_photo_added_last(django_assert_num_queries):
    older, newer = make_photo_row(), make_photo_row()
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[older.pk])
    albums.add_photos(album=album, photo_ids=[newer.pk])
    albums.create_album(name="Empty")
    with django_assert_num_queries(3):
        listed = {a.name: a for a in albums.albums_with_covers()}
        assert listed["A"].cover_photo == newer and listed["A"].photo_count == 2
        assert listed["Empty"].cover_photo is None
        assert listed["A"].cover_photo.variants_by_name["thumb"].width == 400
    albums.set_cover(album=album, photo=older)
    assert {a.name: a for a in albums.albums_with_covers()}["A"].cover_photo == older
    with pytest.raises(ValueError):
        albums.set_cover(album=album, photo=make_photo_row())


def test_cover_view_sets_and_clears_the_cover(client_logged_in):
    photo = make_photo_row()
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[photo.pk])
    client_logged_in.post(f"/albums/{album.pk}/cover/", {"photo": photo.pk})
    album.refresh_from_db()
    assert album.cover == photo
    client_logged_in.post(f"/albums/{album.pk}/cover/", {"photo": ""})
    album.refresh_from_db()
    assert album.cover is None


def test_album_page_shows_only_its_photos_with_a_live_grid(client_logged_in):
    inside, outside = make_photo_row(), make_photo_row()
    album = albums.create_album(name="A")
    albums.add_photos(album=album, photo_ids=[inside.pk])
    html = client_logged_in.get(f"/albums/{album.pk}/").content.decode()
    assert f'id="photo-{inside.pk}"' in html and f'id="photo-{outside.pk}"' not in html
    assert 'ws-connect="/ws/gallery/"' in html
    assert "data-accept-new" not in html  # photos uploaded elsewhere are not pushed into an album


def test_photo_view_adds_and_removes_album_membership(client_logged_in):
    photo = make_photo_row()
    album = albums.create_album(name="Trip")
    client_logged_in.post(f"/photos/{photo.pk}/albums/", {"album": album.pk})
    assert list(album.photos.all()) == [photo]
    html = client_logged_in.get(f"/photos/{photo.pk}/").content.decode()
    assert "Remove from Trip" in html
    client_logged_in.post(f"/photos/{photo.pk}/albums/", {"album": album.pk, "remove": "1"})
    assert not album.photos.exists() and Photo.objects.filter(pk=photo.pk).exists()


def test_upload_straight_into_an_album(client_logged_in, django_capture_on_commit_callbacks):
    from tests.conftest import DATA

    album = albums.create_album(name="Trip")
    with django_capture_on_commit_callbacks(execute=False), open(DATA / "formats" / "hopper.jpg", "rb") as handle:
        response = client_logged_in.post("/upload/", {"files": handle, "album": album.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 201
    assert list(album.photos.values_list("original_name", flat=True)) == ["hopper.jpg"]


def test_bulk_add_and_remove_from_album(client_logged_in):
    photos = [make_photo_row() for _ in range(3)]
    album = albums.create_album(name="A")
    ids = [p.pk for p in photos]
    client_logged_in.post("/photos/bulk/", {"action": "add", "photo": ids, "album": album.pk, "next": "/"})
    assert album.photos.count() == 3
    client_logged_in.post("/photos/bulk/", {"action": "remove", "photo": ids[:2], "album": album.pk, "next": "/"})
    assert list(album.photos.all()) == [photos[2]]
    assert Photo.objects.count() == 3


def test_album_names_are_unique_ignoring_case(client_logged_in):
    from gallery.albums import AlbumNameTaken, create_album, rename_album

    iceland = create_album(name="Iceland")
    with pytest.raises(AlbumNameTaken, match="Iceland"):
        create_album(name="  iceland ")
    response = client_logged_in.post("/albums/", {"name": "ICELAND"})
    assert response.status_code == 200 and "There is an album named “Iceland” already" in response.content.decode()
    other = create_album(name="Norway")
    response = client_logged_in.post(f"/albums/{other.pk}/rename/", {"name": "iceland"}, follow=True)
    assert "already" in response.content.decode() and Album.objects.get(pk=other.pk).name == "Norway"
    rename_album(album=iceland, name="ICELAND")  # its own name in another case is fine
    assert Album.objects.get(pk=iceland.pk).name == "ICELAND"
    with pytest.raises(IntegrityError):  # the database's own guard, for two requests that race
        with transaction.atomic():
            Album.objects.create(name="norway")


def test_existing_clashing_names_are_renamed_by_the_migration():
    migration = importlib.import_module("gallery.migrations.0009_album_name_key")
    for number, name in enumerate(("Iceland", "iceland", "ICELAND ", "Norway")):
        # As they were before the key; numbered, since MariaDB's collation ignores case in the unique index too.
        Album.objects.bulk_create([Album(name=name, name_key=f"tmp-{number}")])
    migration.fill_keys(apps, None)
    assert sorted(Album.objects.values_list("name", flat=True)) == ["ICELAND (3)", "Iceland", "Norway", "iceland (2)"]
