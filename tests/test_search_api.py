"""Search and filters (gallery/search.py) through the API, against a seeded library with known answers; favourites;
the albums API; who may change what."""

from datetime import date

import pytest
from django.test import Client

from gallery import albums
from gallery.models import Album, ApiToken, Favorite, Photo
from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(user):
    beach = albums.create_album(name="Beach Holiday", owner=user)
    rows = {
        "canon": make_photo_row(original_name="IMG_0001.JPG", camera_make="Canon", camera_model="Canon EOS R5",
                                taken_at=aware(2021, 7, 14, 12), taken_date=date(2021, 7, 14), width=6000, height=4000),
        "iphone": make_photo_row(original_name="sunset.heic", camera_make="Apple", camera_model="iPhone 13 Pro",
                                 lens="iPhone 13 Pro back triple camera", format="HEIF", taken_at=aware(2022, 1, 2, 9),
                                 taken_date=date(2022, 1, 2), width=3024, height=4032),
        "square": make_photo_row(original_name="logo.png", format="PNG", width=1000, height=1000,
                                 caption="Our first logo\nthe rough draft"),
        "beach": make_photo_row(original_name="P1000123.jpg", camera_make="Panasonic", camera_model="DMC-GX80",
                                taken_at=aware(2021, 7, 31, 23), taken_date=date(2021, 7, 31), width=4592, height=3448),
    }  # fmt: skip
    albums.add_photos(album=beach, photo_ids=[rows["beach"].pk, rows["canon"].pk])
    return rows, beach


def ids(client, query: str) -> set[int]:
    response = client.get(f"/api/images/?{query}")
    assert response.status_code == 200, response.content
    return {photo["id"] for photo in response.json()["results"]}


def test_filters_find_exactly_what_they_say(client_logged_in, library, user):
    rows, beach = library
    pk = {name: photo.pk for name, photo in rows.items()}
    assert ids(client_logged_in, "q=img") == {pk["canon"]}
    assert ids(client_logged_in, "q=DRAFT") == {pk["square"]}  # a word of the caption, any case
    assert ids(client_logged_in, "q=rough+logo") == {pk["square"]}
    assert ids(client_logged_in, "q=IPHONE") == {pk["iphone"]}  # camera model, any case
    assert ids(client_logged_in, "q=triple") == {pk["iphone"]}  # the lens
    assert ids(client_logged_in, "q=holiday") == {pk["beach"], pk["canon"]}  # an album's name
    assert ids(client_logged_in, "q=holiday+canon") == {pk["canon"]}  # every word must match
    assert ids(client_logged_in, "q=holiday+nothing") == set()
    assert ids(client_logged_in, "taken_after=2021-07-14&taken_before=2021-07-31") == {pk["canon"], pk["beach"]}
    assert ids(client_logged_in, "taken_after=2021-07-15") == {pk["beach"], pk["iphone"]}  # no date: left out
    assert ids(client_logged_in, "camera=canon+eos+r5") == {pk["canon"]}
    assert ids(client_logged_in, "camera=apple") == {pk["iphone"]}
    assert ids(client_logged_in, f"album={beach.pk}") == {pk["beach"], pk["canon"]}
    assert ids(client_logged_in, "orientation=portrait") == {pk["iphone"]}
    assert ids(client_logged_in, "orientation=square") == {pk["square"]}
    assert ids(client_logged_in, "orientation=landscape&format=jpeg") == {pk["canon"], pk["beach"]}
    assert ids(client_logged_in, "format=heif") == {pk["iphone"]}
    assert ids(client_logged_in, f"sha256={rows['square'].sha256}") == {pk["square"]}
    Favorite.objects.create(user=user, photo=rows["square"])
    assert ids(client_logged_in, "favorite=1") == {pk["square"]}
    assert ids(client_logged_in, "favorite=false") == {pk["canon"], pk["iphone"], pk["beach"]}
    assert ids(client_logged_in, "favorite=true&q=logo") == {pk["square"]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("taken_after=yesterday", "taken_after"),
        ("taken_before=2021-13-01", "taken_before"),
        ("album=abc", "album"),
        ("favorite=yes", "favorite"),
        ("orientation=diagonal", "orientation"),
        ("sha256=xyz", "sha256"),
        ("page=abc", "page"),
        ("status=bogus", "status"),
    ],
)
def test_a_bad_value_is_400_with_the_reason(client_logged_in, query, field):
    response = client_logged_in.get(f"/api/images/?{query}")
    assert response.status_code == 400 and response.json()["error"].startswith(field), response.json()


def test_filtered_lists_cost_the_same_queries_however_many_photos(client_logged_in, user, django_assert_num_queries):
    for _ in range(3):
        make_photo_row(original_name="tree.jpg")
    client_logged_in.get("/api/images/?q=tree&favorite=0")  # warm the session
    with django_assert_num_queries(5) as few:
        client_logged_in.get("/api/images/?q=tree&favorite=0")
    for _ in range(20):
        make_photo_row(original_name="tree.jpg")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client_logged_in.get("/api/images/?q=tree&favorite=0").json()["results"]) == 23


def test_favourites_are_per_account(client_logged_in, user, django_user_model):
    photo = make_photo_row()
    response = client_logged_in.patch(f"/api/images/{photo.pk}/", {"favorite": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["favorite"] is True
    assert client_logged_in.get(f"/api/images/{photo.pk}/").json()["favorite"] is True
    other = Client()
    other.force_login(django_user_model.objects.create_user("bob", password="another long phrase"))
    assert other.get(f"/api/images/{photo.pk}/").json()["favorite"] is False
    response = client_logged_in.patch(f"/api/images/{photo.pk}/", {"favorite": False}, content_type="application/json")
    assert response.json()["favorite"] is False and not Favorite.objects.exists()
    bad = client_logged_in.patch(f"/api/images/{photo.pk}/", {"favorite": "maybe"}, content_type="application/json")
    assert bad.status_code == 400 and "favorite" in bad.json()["error"]


def test_the_albums_api(client_logged_in, user):
    photos = [make_photo_row() for _ in range(3)]
    created = client_logged_in.post("/api/albums/", {"name": "Iceland"}, content_type="application/json")
    assert created.status_code == 201
    album = created.json()
    assert album == {"id": album["id"], "name": "Iceland", "count": 0, "cover": None}
    clash = client_logged_in.post("/api/albums/", {"name": "ICELAND"}, content_type="application/json")
    assert clash.status_code == 400 and "already" in clash.json()["error"]
    url = f"/api/albums/{album['id']}/"
    added = client_logged_in.post(url + "photos/", {"photos": [p.pk for p in photos]}, content_type="application/json")
    assert added.status_code == 200 and added.json() == {"added": 3}
    assert client_logged_in.get(url).json() == {"id": album["id"], "name": "Iceland", "count": 3, "cover": photos[2].pk}
    removed = client_logged_in.delete(url + "photos/", {"photos": [photos[0].pk]}, content_type="application/json")
    assert removed.json() == {"removed": 1}
    renamed = client_logged_in.patch(url, {"name": "Iceland 2026"}, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Iceland 2026"
    listing = client_logged_in.get("/api/albums/").json()
    assert listing["count"] == 1 and listing["results"][0]["count"] == 2 and set(listing) == {
        "count", "page", "pages", "next", "results"
    }  # fmt: skip
    assert client_logged_in.delete(url).status_code == 204
    assert Photo.objects.count() == 3  # photos stay
    assert client_logged_in.get(url).status_code == 404


def test_a_member_cannot_change_someone_elses_album_or_delete_their_photos(django_user_model, user):
    theirs = albums.create_album(name="Theirs", owner=user)
    photo = make_photo_row(uploaded_by=user)
    member = Client()
    member.force_login(django_user_model.objects.create_user("bob", password="another long phrase"))
    url = f"/api/albums/{theirs.pk}/"
    assert member.get(url).status_code == 200  # the library is shared: seeing is fine
    assert member.patch(url, {"name": "Mine"}, content_type="application/json").status_code == 403
    assert member.delete(url).status_code == 403
    assert member.post(url + "photos/", {"photos": [photo.pk]}, content_type="application/json").status_code == 403
    assert member.delete(f"/api/images/{photo.pk}/").status_code == 403
    assert member.delete(f"/api/images/{photo.pk}/?purge=1").status_code == 403
    assert Album.objects.get(pk=theirs.pk).name == "Theirs" and Photo.objects.filter(pk=photo.pk).exists()
    own = make_photo_row(uploaded_by=django_user_model.objects.get(username="bob"))
    assert member.delete(f"/api/images/{own.pk}/").status_code == 200
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "correct horse battery"))
    assert staff.delete(f"/api/images/{photo.pk}/").status_code == 200


def test_api_tokens_see_favourites_of_their_own_user(user):
    photo = make_photo_row()
    Favorite.objects.create(user=user, photo=photo)
    _, token = ApiToken.issue(user)
    body = Client().get("/api/images/", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["results"][0]["favorite"] is True
