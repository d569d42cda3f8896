"""Finding photos on the pages (issue 15's interface): the search box and filter chips whose state is the URL, the
favourite stars, the date scrubber, "on this day", the grid's layout, and the pickers' search."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from gallery import albums, favorites
from gallery.frames.models import Playlist
from gallery.library import Cursor
from gallery.models import Favorite
from gallery.templatetags.gallery_extras import aspect_css
from tests.gallery_factories import aware, make_photo_row

STATIC = Path(__file__).resolve().parent.parent / "static" / "css"


def tile_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<figure class="tile[^"]*" id="photo-(\d+)"', html)]


@pytest.fixture
def seeded(db):
    """Five photos with known answers: names, cameras, shapes and months."""
    return {
        "beach": make_photo_row(taken_at=aware(2024, 7, 3, 12), original_name="Beach day.jpg", camera_model="X100V"),
        "beach2": make_photo_row(taken_at=aware(2024, 7, 1, 9), original_name="beach walk.jpg", width=800, height=1200),
        "snow": make_photo_row(taken_at=aware(2023, 1, 20), original_name="Snow.jpg", camera_model="X100V"),
        "square": make_photo_row(
            taken_at=aware(2022, 5, 5), original_name="Icon.png", format="PNG", width=900, height=900
        ),
        "undated": make_photo_row(original_name="scan.jpg"),
    }


def test_the_search_box_and_chips_keep_their_state_in_the_url(client_logged_in, seeded):
    html = client_logged_in.get("/?q=beach").content.decode()
    assert set(tile_ids(html)) == {seeded["beach"].pk, seeded["beach2"].pk}
    assert 'name="q" value="beach"' in html
    assert "2 of 5 photos match" in html
    # The chips are links that keep the search and change one filter; the active one is marked and undoes itself.
    assert 'href="/?q=beach&amp;orientation=portrait"' in html
    html = client_logged_in.get("/?q=beach&orientation=portrait").content.decode()
    assert tile_ids(html) == [seeded["beach2"].pk]
    assert '<a class="filter-chip is-on" href="/?q=beach" aria-current="true">' in html
    assert '<input type="hidden" name="orientation" value="portrait">' in html  # a new search keeps the chip
    assert 'aria-label="Remove “beach”"' in html and 'href="/?orientation=portrait"' in html
    assert '<a class="clear-filters" href="/">Clear all filters</a>' in html


def test_more_filters_combine_and_show_as_removable_chips(client_logged_in, seeded):
    html = client_logged_in.get("/?camera=x100v&taken_after=2024-01-01").content.decode()
    assert tile_ids(html) == [seeded["beach"].pk]
    assert 'name="taken_after" value="2024-01-01"' in html
    assert "Camera: x100v" in html and "From 1 Jan 2024" in html
    html = client_logged_in.get("/?format=png").content.decode()
    assert tile_ids(html) == [seeded["square"].pk]
    assert '<option value="PNG" selected>' in html


def test_a_bad_filter_value_is_explained_with_400_not_500(client_logged_in, seeded):
    response = client_logged_in.get("/?taken_after=yesterday")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This filter cannot be used: taken_after: &#x27;yesterday&#x27; is not a date (YYYY-MM-DD)." in html
    assert len(tile_ids(html)) == 5  # the library, unfiltered, below the reason
    assert client_logged_in.get("/?orientation=sideways").status_code == 400


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(client_logged_in, seeded):
    html = client_logged_in.get("/?q=nothing+like+this").content.decode()
    assert tile_ids(html) == []
    assert "No photos match these filters." in html
    assert '<a class="button button--quiet" href="/">Clear filters</a>' in html
    assert "empty-library" not in html


def test_keyset_pages_keep_the_filters(client_logged_in, monkeypatch):
    monkeypatch.setattr("gallery.views.PAGE_SIZE", 2)
    matching = [make_photo_row(taken_at=aware(2024, 3, 10 - n), original_name=f"cat {n}.jpg") for n in range(5)]
    for n in range(5):
        make_photo_row(taken_at=aware(2024, 3, 10 - n, 6), original_name=f"dog {n}.jpg")
    seen, url = [], "/?q=cat"
    while url:
        html = client_logged_in.get(url, HTTP_HX_REQUEST="true" if seen else None).content.decode()
        seen += tile_ids(html)
        found = re.search(r'id="load-more" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert not url or url.startswith("/?q=cat&before=")
    assert seen == [photo.pk for photo in matching]


def test_a_filtered_page_takes_live_inserts_through_its_filters(client_logged_in, seeded):
    html = client_logged_in.get("/").content.decode()
    assert "data-accept-new" in html and "data-filtered" not in html
    html = client_logged_in.get("/?q=beach&orientation=portrait").content.decode()
    assert 'data-accept-new data-filtered="/?q=beach&amp;orientation=portrait"' in html
    # Opened at a cursor (a jump), a page takes none: new photos belong above what it loaded.
    cursor = Cursor(aware(2030, 1, 1), 1).encode()
    assert "data-accept-new" not in client_logged_in.get(f"/?q=beach&before={cursor}").content.decode()
    # Which pushed photos does the filtered page show? Only those its filters keep, as tiles.
    ids = ",".join(str(photo.pk) for photo in seeded.values())
    response = client_logged_in.get(f"/?q=beach&photos={ids}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert sorted(tile_ids(response.content.decode())) == sorted([seeded["beach"].pk, seeded["beach2"].pk])
    assert response["Glowworm-Library-Count"] == "5"  # for "M of N photos match": the library grows by the others
    response = client_logged_in.get(f"/?q=beach&orientation=portrait&photos={ids}", HTTP_HX_REQUEST="true")
    assert tile_ids(response.content.decode()) == [seeded["beach2"].pk]
    for bad in ("beach", "1,x", ",".join(["1"] * 501)):
        response = client_logged_in.get(f"/?q=beach&photos={bad}", HTTP_HX_REQUEST="true")
        assert response.status_code == 400 and tile_ids(response.content.decode()) == []
    assert "Ask about at most 500 photos at a time." in response.content.decode()


def test_select_all_keeps_the_filters(client_logged_in, seeded):
    # "Select all" sends the view's scope; on a filtered page the filters go with it.
    assert '<input type="hidden" name="filters" value="q=beach">' in client_logged_in.get("/?q=beach").content.decode()


def test_select_all_on_a_filtered_page_acts_on_what_the_filters_keep(client_logged_in, user, seeded):
    album = albums.create_album(name="Beaches", owner=user)
    body = {"action": "add", "album": album.pk, "scope": "library", "filters": "q=beach", "exclude": ""}
    assert client_logged_in.post("/photos/bulk/", body, HTTP_HX_REQUEST="true").status_code == 200
    assert set(album.memberships.values_list("photo_id", flat=True)) == {seeded["beach"].pk, seeded["beach2"].pk}
    favorites.set_favorite(user=user, photo=seeded["snow"], favorite=True)
    body.update(filters="favorite=1", exclude="")
    client_logged_in.post("/photos/bulk/", body, HTTP_HX_REQUEST="true")
    assert album.memberships.count() == 3
    body.update(filters="taken_after=soon")
    response = client_logged_in.post("/photos/bulk/", body, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "taken_after" in response.content.decode()
    assert album.memberships.count() == 3


def test_tiles_and_the_photo_view_carry_this_accounts_star(client_logged_in, user, member, seeded):
    favorites.set_favorite(user=user, photo=seeded["snow"], favorite=True)
    favorites.set_favorite(user=member, photo=seeded["beach"], favorite=True)
    html = client_logged_in.get("/").content.decode()
    stars = {
        int(pk): pressed for pressed, pk in re.findall(r'aria-pressed="(true|false)"[^>]*data-favorite="(\d+)"', html)
    }
    assert stars[seeded["snow"].pk] == "true" and stars[seeded["beach"].pk] == "false"
    assert '<form id="favorite-form" method="post" hidden>' in html
    html = client_logged_in.get(f"/photos/{seeded['snow'].pk}/").content.decode()
    assert re.search(r'class="star lightbox-star"[^>]*aria-pressed="true"', html)
    html = client_logged_in.get("/?favorite=1").content.decode()
    assert tile_ids(html) == [seeded["snow"].pk]


def test_the_star_form_sets_and_clears_a_favourite(client_logged_in, user, seeded):
    photo = seeded["beach"]
    response = client_logged_in.post(f"/photos/{photo.pk}/favorite/", {"favorite": "1", "next": "/?q=beach"})
    assert response.status_code == 302 and response["Location"] == "/?q=beach"
    assert Favorite.objects.filter(user=user, photo=photo).exists()
    response = client_logged_in.post(f"/photos/{photo.pk}/favorite/", {"favorite": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not Favorite.objects.filter(user=user, photo=photo).exists()
    response = client_logged_in.post(f"/photos/{photo.pk}/favorite/", {"favorite": "maybe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "use 1, 0, true or false" in response.content.decode()
    assert client_logged_in.get(f"/photos/{photo.pk}/favorite/").status_code == 405
    assert client_logged_in.post("/photos/999999/favorite/", {"favorite": "1"}).status_code == 404


def test_the_star_form_needs_the_csrf_token(user, seeded):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"/photos/{seeded['beach'].pk}/favorite/", {"favorite": "1"})
    assert response.status_code == 403
    assert not Favorite.objects.exists()


def test_the_scrubber_lists_months_with_counts_and_jumps_keeping_the_filters(client_logged_in, seeded):
    html = client_logged_in.get("/?camera=X100V").content.decode()
    scrubber = html[html.index('<nav class="scrubber"') :]
    assert 'aria-label="July 2024, 1 photo"' in scrubber and 'aria-label="January 2023, 1 photo"' in scrubber
    assert "May 2022" not in scrubber  # the filter applies to the counts
    january = Cursor(aware(2023, 2, 1), 0).encode()
    assert f'href="/?camera=X100V&amp;before={january}"' in scrubber
    # The jump: the page starts at that month, marks it, and offers the newer photos above it.
    html = client_logged_in.get(f"/?camera=X100V&before={january}").content.decode()
    assert tile_ids(html.split('<nav class="scrubber"')[0]) == [seeded["snow"].pk]
    assert 'aria-label="January 2023, 1 photo" aria-current="true"' in html or re.search(
        r'aria-current="true" aria-label="January 2023, 1 photo"', html
    )
    newer = re.search(r'id="load-newer" href="[^"]*" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert newer.startswith("/?camera=X100V&after=")
    fragment = client_logged_in.get(newer, HTTP_HX_REQUEST="true").content.decode()
    assert tile_ids(fragment) == [seeded["beach"].pk]
    assert "load-newer" not in fragment  # that reached the newest photo


def test_newer_pages_chain_until_the_newest_photo(client_logged_in, monkeypatch):
    monkeypatch.setattr("gallery.views.PAGE_SIZE", 2)
    photos = [make_photo_row(taken_at=aware(2024, 6, 20 - n)) for n in range(7)]
    # A page that starts just above the sixth photo (as a scrubber jump or a shared URL would).
    html = client_logged_in.get(f"/?before={Cursor(aware(2024, 6, 15), photos[5].pk + 1).encode()}").content.decode()
    first = tile_ids(html.split('<nav class="scrubber"')[0])
    assert first == [photos[5].pk, photos[6].pk]
    seen, url = [], re.search(r'id="load-newer" href="[^"]*" hx-get="([^"]+)"', html).group(1)
    while url:
        fragment = client_logged_in.get(url.replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
        seen = tile_ids(fragment) + seen
        found = re.search(r'id="load-newer" href="[^"]*" hx-get="([^"]+)"', fragment)
        url = found.group(1) if found else None
    assert seen == [photo.pk for photo in photos[:5]]


def test_on_this_day_shows_earlier_years_only_when_there_are_any(client_logged_in, monkeypatch):
    monkeypatch.setattr("gallery.views.timezone.localdate", lambda: date(2026, 7, 3))
    assert "On this day" not in client_logged_in.get("/").content.decode()
    three = make_photo_row(taken_at=aware(2023, 7, 3, 10))
    one = make_photo_row(taken_at=aware(2025, 7, 3, 18))
    make_photo_row(taken_at=aware(2025, 7, 4, 18))
    html = client_logged_in.get("/").content.decode()
    start = html.index('<section class="memories"')
    strip = html[start : html.index("</section>", start)]
    assert strip.index("1 year ago") < strip.index("3 years ago")
    assert f'href="/photos/{one.pk}/"' in strip and f'href="/photos/{three.pk}/"' in strip
    assert strip.count('class="memory"') == 2
    assert "On this day" not in client_logged_in.get("/?q=x").content.decode()  # not over a search


def test_the_grid_is_justified_by_default_and_square_when_chosen(client_logged_in, seeded):
    html = client_logged_in.get("/").content.decode()
    assert 'class="grid grid--justified"' in html
    assert f'id="photo-{seeded["beach2"].pk}" data-photo-id' in html
    # Each tile's shape is known before its image loads: a class naming its width / height (no style attribute:
    # the Content-Security-Policy allows none).
    shapes = {int(pk): name for name, pk in re.findall(r'<figure class="tile (ar\d+) [^"]*" id="photo-(\d+)"', html)}
    css = dict(re.findall(r"\.(ar\d+) \{ --ar: ([\d.]+); \}", (STATIC / "aspect.css").read_text()))
    assert float(css[shapes[seeded["beach2"].pk]]) == pytest.approx(800 / 1200, rel=0.013)
    assert float(css[shapes[seeded["square"].pk]]) == 1
    assert float(css[shapes[seeded["beach"].pk]]) == pytest.approx(1.5, rel=0.013)
    client_logged_in.cookies["grid_layout"] = "square"
    html = client_logged_in.get("/").content.decode()
    assert 'class="grid grid--square"' in html
    assert 'data-layout="square" aria-pressed="true"' in html
    client_logged_in.cookies["grid_layout"] = "<script>"
    assert 'class="grid grid--justified"' in client_logged_in.get("/").content.decode()


def test_the_aspect_classes_file_is_the_one_the_code_writes():
    assert (STATIC / "aspect.css").read_text() == aspect_css()


def test_the_album_picker_searches_and_pages_with_its_filters(client_logged_in, seeded):
    album = albums.create_album(name="Trip")
    html = client_logged_in.get(f"/albums/{album.pk}/add/?q=beach").content.decode()
    assert set(tile_ids(html)) == {seeded["beach"].pk, seeded["beach2"].pk}
    assert f'action="/albums/{album.pk}/add/"' in html and 'value="beach"' in html
    assert client_logged_in.get(f"/albums/{album.pk}/add/?album=x").status_code == 400
    html = client_logged_in.get(f"/albums/{album.pk}/add/?q=zzz").content.decode()
    assert "No photos match these filters." in html


def test_the_playlist_picker_searches(admin_client, seeded):
    playlist = Playlist.objects.create(name="Kitchen")
    html = admin_client.get(f"/playlists/{playlist.pk}/add/?q=snow").content.decode()
    assert re.findall(r'name="id" value="(\d+)"', html) == [str(seeded["snow"].pk)]
    assert 'name="q" value="snow"' in html
    assert admin_client.get(f"/playlists/{playlist.pk}/add/?taken_before=soon").status_code == 400


def test_the_album_page_shows_stars_and_follows_the_layout(client_logged_in, user, seeded):
    album = albums.create_album(name="Stars", owner=user)
    albums.add_photos(album=album, photo_ids=[seeded["beach"].pk, seeded["snow"].pk])
    favorites.set_favorite(user=user, photo=seeded["snow"], favorite=True)
    html = client_logged_in.get(f"/albums/{album.pk}/").content.decode()
    assert re.search(rf'aria-pressed="true"[^>]*data-favorite="{seeded["snow"].pk}"', html)
    assert re.search(rf'aria-pressed="false"[^>]*data-favorite="{seeded["beach"].pk}"', html)
    assert 'class="grid grid--justified"' in html
    client_logged_in.cookies["grid_layout"] = "square"
    assert 'class="grid grid--square"' in client_logged_in.get(f"/albums/{album.pk}/").content.decode()


def test_a_cursor_past_the_oldest_photo_shows_an_empty_page_not_an_error(client_logged_in, seeded):
    response = client_logged_in.get(f"/?before={Cursor(aware(1990, 1, 1), 1).encode()}")
    assert response.status_code == 200 and tile_ids(response.content.decode().split('<nav class="scrubber"')[0]) == []
