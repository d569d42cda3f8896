"""Share links: the albums API's links endpoints, the public pages under /s/<token>/, their files, passwords,
downloads without metadata, expiry and revocation, and the album's Share page."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from PIL import Image

from gallery import albums, storage
from gallery.models import Album, Photo, Variant
from gallery.sharing import links
from gallery.sharing.models import ShareLink
from tests.conftest import ready_photo
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def album(user):
    return albums.create_album(name="Iceland", owner=user)


@pytest.fixture
def shared(client_logged_in, album):
    """An album of one rendered photo (with EXIF GPS), and a live link to it; plus a photo outside the album."""
    inside = ready_photo(client_logged_in, "formats/exif_gps.jpg")
    outside = ready_photo(client_logged_in, "formats/hopper.jpg")
    albums.add_photos(album=album, photo_ids=[inside.pk])
    link = links.create_link(album=album, user=album.owner, allow_download=True)
    return link, inside, outside


def visitor() -> Client:
    return Client()


def variant_urls(html: str) -> list[str]:
    return re.findall(r'src="(/s/[^"]+/v/\d+/[^"]+)"', html)


# --- the API ---------------------------------------------------------------------------------------------------


def test_links_api_makes_lists_and_revokes(client_logged_in, album):
    made = client_logged_in.post(
        f"/api/albums/{album.pk}/links/",
        {"expires_in_days": 7, "allow_download": True, "password": "open sesame"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert {"id", "url", "expires_at"} <= body.keys()
    token = re.fullmatch(r"/s/([A-Za-z0-9_-]+)/", body["url"]).group(1)
    assert len(token) * 6 >= 128  # base64url characters carry 6 bits each
    assert body["allow_download"] is True and body["has_password"] is True
    link = ShareLink.objects.get(pk=body["id"])
    assert token not in (link.nonce, link.digest) and "open sesame" not in link.password
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)

    listed = client_logged_in.get(f"/api/albums/{album.pk}/links/")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [link.pk]

    gone = client_logged_in.delete(f"/api/albums/{album.pk}/links/{link.pk}/")
    assert gone.status_code == 204
    assert visitor().get(body["url"]).status_code == 404
    assert client_logged_in.get(f"/api/albums/{album.pk}/links/").json() == {"results": []}
    assert client_logged_in.delete(f"/api/albums/{album.pk}/links/{link.pk}/").status_code == 404


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 99999}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"password": "abc"}, "password"),
        ({"allow_download": "perhaps"}, "allow_download"),
    ],
)
def test_links_api_refuses_bad_settings_with_the_reason(client_logged_in, album, payload, reason):
    response = client_logged_in.post(f"/api/albums/{album.pk}/links/", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)
    assert not ShareLink.objects.exists()


def test_links_api_is_for_the_albums_owner_or_staff(client, member, user, album):
    client.force_login(member)
    assert client.get(f"/api/albums/{album.pk}/links/").status_code == 403
    assert client.post(f"/api/albums/{album.pk}/links/", {}, content_type="application/json").status_code == 403
    link = links.create_link(album=album, user=user)
    assert client.delete(f"/api/albums/{album.pk}/links/{link.pk}/").status_code == 403
    assert client.get("/api/albums/999999/links/").status_code == 404
    own = albums.create_album(name="Bob's", owner=member)
    assert client.post(f"/api/albums/{own.pk}/links/", {}, content_type="application/json").status_code == 201
    # A link id of another album is not this album's.
    assert client.delete(f"/api/albums/{own.pk}/links/{link.pk}/").status_code == 404
    assert Client().get(f"/api/albums/{album.pk}/links/").status_code == 401


# --- the public pages ------------------------------------------------------------------------------------------


def test_the_share_page_shows_the_album_through_the_link_and_nothing_private(shared):
    link, inside, outside = shared
    response = visitor().get(link.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Iceland" in html
    assert "/media/" not in html and "/photos/" + str(inside.pk) + "/original" not in html
    assert inside.original_name not in html and outside.original_name not in html
    assert "GPS" not in html and "Latitude" not in html
    urls = variant_urls(html)
    assert urls and all(url.startswith(link.get_absolute_url()) for url in urls)
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "private" in response["Cache-Control"]
    for url in set(urls):
        image = visitor().get(url)
        assert image.status_code == 200, url
        assert image["Content-Type"] == "image/webp"
    assert ShareLink.objects.get(pk=link.pk).views == 1


def test_the_photo_page_and_its_preview(shared):
    link, inside, _ = shared
    page = visitor().get(f"{link.get_absolute_url()}photos/{inside.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    preview = Variant.objects.get(photo=inside, name="preview")
    assert f"v/{preview.pk}/{preview.basename}" in html
    assert f"download/{inside.pk}/" in html
    assert inside.original_name not in html and "/media/" not in html


def test_views_are_counted_per_page_load(shared):
    link, *_ = shared
    for _ in range(3):
        visitor().get(link.get_absolute_url())
    link.refresh_from_db()
    assert link.views == 3 and link.last_viewed_at is not None


def test_every_id_in_the_share_urls_opens_only_what_the_link_shares(shared, client_logged_in, user):
    link, inside, outside = shared
    other_album = albums.create_album(name="Other", owner=user)
    albums.add_photos(album=other_album, photo_ids=[outside.pk])
    other_link = links.create_link(album=other_album, user=user, allow_download=True)
    base = link.get_absolute_url()
    anonymous = visitor()

    assert anonymous.get(f"{base}photos/{inside.pk}/").status_code == 200
    assert anonymous.get(f"{base}download/{inside.pk}/").status_code == 200
    for photo_id in (outside.pk, inside.pk + 1000, 0):
        assert anonymous.get(f"{base}photos/{photo_id}/").status_code == 404
        assert anonymous.get(f"{base}download/{photo_id}/").status_code == 404
    own = list(Variant.objects.filter(photo=inside))
    foreign = list(Variant.objects.filter(photo=outside))
    for variant in own:
        expected = 200 if variant.name in ("thumb", "thumb2x", "preview") else 404
        assert anonymous.get(f"{base}v/{variant.pk}/{variant.basename}").status_code == expected, variant.name
        # The right file name with another variant's id, and the other way round.
        assert anonymous.get(f"{base}v/{variant.pk + 10_000}/{variant.basename}").status_code == 404
    for variant in foreign:
        assert anonymous.get(f"{base}v/{variant.pk}/{variant.basename}").status_code == 404
    thumb = next(v for v in own if v.name == "thumb")
    thumb2x = next(v for v in own if v.name == "thumb2x")
    assert anonymous.get(f"{base}v/{thumb.pk}/{thumb2x.basename}").status_code == 404
    assert anonymous.get(f"{base}v/{thumb.pk}/..%2F..%2Foriginals").status_code == 404
    # The other album's link does not open this album's photo either.
    other = other_link.get_absolute_url()
    assert anonymous.get(f"{other}photos/{inside.pk}/").status_code == 404
    assert anonymous.get(f"{other}v/{thumb.pk}/{thumb.basename}").status_code == 404
    assert anonymous.get(f"{other}download/{inside.pk}/").status_code == 404
    # Tokens: a changed character, another length, another link's digest as a token.
    token = link.token
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-2], link.digest, link.nonce, "x" * 300):
        assert anonymous.get(f"/s/{wrong}/").status_code == 404
        assert anonymous.get(f"/s/{wrong}/v/{thumb.pk}/{thumb.basename}").status_code == 404
    # The library's own URLs stay closed to a share visitor.
    assert anonymous.get(f"/photos/{inside.pk}/").status_code == 302
    assert anonymous.get(f"/photos/{inside.pk}/original/").status_code == 302
    assert anonymous.get(thumb.url).status_code == 302


def test_a_photo_leaves_the_link_when_it_leaves_the_album_or_goes_to_the_trash(shared, user):
    link, inside, _ = shared
    thumb = Variant.objects.get(photo=inside, name="thumb")
    url = f"{link.get_absolute_url()}v/{thumb.pk}/{thumb.basename}"
    assert visitor().get(url).status_code == 200
    Photo.objects.filter(pk=inside.pk).update(trashed_at=timezone.now())
    assert visitor().get(url).status_code == 404
    assert visitor().get(f"{link.get_absolute_url()}photos/{inside.pk}/").status_code == 404
    Photo.all_objects.filter(pk=inside.pk).update(trashed_at=None)
    albums.remove_photos(album=link.album, photo_ids=[inside.pk])
    assert visitor().get(url).status_code == 404


def test_expired_revoked_and_deleted_links_answer_404(shared, settings):
    link, inside, _ = shared
    thumb = Variant.objects.get(photo=inside, name="thumb")
    urls = [
        link.get_absolute_url(),
        f"{link.get_absolute_url()}photos/{inside.pk}/",
        f"{link.get_absolute_url()}v/{thumb.pk}/{thumb.basename}",
        f"{link.get_absolute_url()}download/{inside.pk}/",
    ]
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert [visitor().get(url).status_code for url in urls] == [404] * 4
    ShareLink.objects.filter(pk=link.pk).update(expires_at=None)
    assert visitor().get(urls[0]).status_code == 200
    links.revoke(link)
    assert [visitor().get(url).status_code for url in urls] == [404] * 4
    links.restore(link)
    assert visitor().get(urls[0]).status_code == 200
    settings.SECRET_KEY = "another key, as after a rotation " * 2
    assert visitor().get(urls[0]).status_code == 404


def test_a_password_guards_the_page_and_every_file(shared):
    link, inside, _ = shared
    ShareLink.objects.filter(pk=link.pk).update(password=make_password("open sesame"))
    link.refresh_from_db()
    base = link.get_absolute_url()
    thumb = Variant.objects.get(photo=inside, name="thumb")
    files = [f"{base}v/{thumb.pk}/{thumb.basename}", f"{base}download/{inside.pk}/"]
    browser = visitor()

    locked = browser.get(base)
    assert locked.status_code == 200
    assert 'type="password"' in locked.content.decode() and not variant_urls(locked.content.decode())
    assert browser.get(f"{base}photos/{inside.pk}/").status_code == 302
    assert [browser.get(url).status_code for url in files] == [404, 404]
    assert ShareLink.objects.get(pk=link.pk).views == 0

    wrong = browser.post(base, {"password": "open sesame!"})
    assert wrong.status_code == 403 and "not the password" in wrong.content.decode()
    right = browser.post(base, {"password": "open sesame"})
    assert right.status_code == 302 and right["Location"] == base
    cookie = right.cookies[f"glowworm_share_{link.pk}"]
    assert cookie["path"] == base and cookie["httponly"]
    assert browser.get(base).status_code == 200
    assert [browser.get(url).status_code for url in files] == [200, 200]

    # A new password ends every browser's unlock, for the files too.
    ShareLink.objects.filter(pk=link.pk).update(password=make_password("another phrase"))
    assert [browser.get(url).status_code for url in files] == [404, 404]
    # A forged cookie is refused.
    forger = visitor()
    forger.cookies[f"glowworm_share_{link.pk}"] = "0" * 64
    assert forger.get(files[0]).status_code == 404


def test_guessing_a_links_password_is_limited(shared, settings):
    link, *_ = shared
    ShareLink.objects.filter(pk=link.pk).update(password=make_password("open sesame"))
    settings.GLOWWORM_LOGIN_FAILURES = 3
    browser = visitor()
    statuses = [browser.post(link.get_absolute_url(), {"password": f"guess {n}"}).status_code for n in range(4)]
    assert statuses == [403, 403, 403, 429]
    refused = browser.post(link.get_absolute_url(), {"password": "open sesame"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


def test_a_download_is_the_full_photo_without_its_metadata(shared):
    link, inside, _ = shared
    original = inside.original
    response = visitor().get(f"{link.get_absolute_url()}download/{inside.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="Iceland-')
    assert response["X-Content-Type-Options"] == "nosniff"
    data = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (inside.width, inside.height)
    assert not image.getexif().get_ifd(0x8825)  # no GPS
    assert "exif" not in image.info or set(image.getexif()) <= {0x0112}
    with Image.open(storage.media_path(original)) as source:
        assert source.getexif().get_ifd(0x8825), "the test photo has GPS to strip"
        assert image.tobytes() == source.tobytes()  # copied, not re-encoded


def test_downloads_need_the_links_permission(shared):
    link, inside, _ = shared
    ShareLink.objects.filter(pk=link.pk).update(allow_download=False)
    assert visitor().get(f"{link.get_absolute_url()}download/{inside.pk}/").status_code == 404
    page = visitor().get(f"{link.get_absolute_url()}photos/{inside.pk}/").content.decode()
    assert "download/" not in page


# --- the album's Share page -----------------------------------------------------------------------------------


def test_the_share_page_makes_copies_and_revokes_links_with_undo(client_logged_in, album):
    page = client_logged_in.get(f"/albums/{album.pk}/share/")
    assert page.status_code == 200 and "No links yet" in page.content.decode()
    made = client_logged_in.post(f"/albums/{album.pk}/share/", {"expires_in_days": "30", "password": ""})
    link = ShareLink.objects.get()
    assert made.status_code == 302 and made["Location"].endswith(f"?new={link.pk}")
    listed = client_logged_in.get(made["Location"]).content.decode()
    assert f"http://testserver/s/{link.token}/" in listed and "0 views" in listed and "Works until" in listed

    revoked = client_logged_in.post(f"/albums/{album.pk}/share/{link.pk}/revoke/")
    assert revoked.status_code == 302 and revoked["Location"].endswith(f"?revoked={link.pk}")
    after = client_logged_in.get(revoked["Location"]).content.decode()
    assert "Link revoked" in after and "Undo" in after and link.token not in after
    assert visitor().get(link.get_absolute_url()).status_code == 404
    client_logged_in.post(f"/albums/{album.pk}/share/{link.pk}/restore/")
    assert visitor().get(link.get_absolute_url()).status_code == 200


def test_the_share_page_says_what_is_wrong_with_a_setting(client_logged_in, album):
    response = client_logged_in.post(f"/albums/{album.pk}/share/", {"password": "abc"})
    assert response.status_code == 400
    assert "at least 6 characters" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_only_the_albums_owner_or_staff_can_share_it(client, member, user, album):
    client.force_login(member)
    assert client.get(f"/albums/{album.pk}/share/").status_code == 403
    assert client.post(f"/albums/{album.pk}/share/", {}).status_code == 403
    link = links.create_link(album=album, user=user)
    assert client.post(f"/albums/{album.pk}/share/{link.pk}/revoke/").status_code == 403
    assert ShareLink.objects.get(pk=link.pk).revoked_at is None
    other = Album.objects.create(name="Else", owner=user)
    client.force_login(user)
    assert client.post(f"/albums/{other.pk}/share/{link.pk}/revoke/").status_code == 404


def test_a_share_link_of_a_big_album_pages_like_the_library(user, album):
    photos = [make_photo_row() for _ in range(130)]
    albums.add_photos(album=album, photo_ids=[photo.pk for photo in photos])
    link = links.create_link(album=album, user=user)
    first = visitor().get(link.get_absolute_url()).content.decode()
    assert first.count('<figure class="tile ') == 120 and "130 photos" in first
    more = re.search(r'hx-get="([^"]+before=[^"]+)"', first).group(1).replace("&amp;", "&")
    rest = visitor().get(more, HTTP_HX_REQUEST="true").content.decode()
    assert rest.count('<figure class="tile ') == 10
    assert ShareLink.objects.get(pk=link.pk).views == 1
