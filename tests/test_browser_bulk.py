"""Acting on a selection without a reload: 'Select all' means every photo the view shows (resolved on the server),
add to a playlist, remove from an album, a new album from the selection."""

import pytest

from gallery import albums
from gallery.frames.models import Playlist
from gallery.library import PAGE_SIZE
from gallery.models import Album
from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_select_all_means_every_photo_of_the_library_not_only_the_loaded_ones(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2021, 1 + n % 12, 1 + n % 28)) for n in range(PAGE_SIZE + 5)]
    playlist = Playlist.objects.create(name="Hall")
    page = logged_in_page
    page.goto("/")
    assert page.locator("#grid figure[data-photo-id]").count() == PAGE_SIZE
    page.locator("#grid .tile-select").first.click(force=True)
    page.click("[data-select-all]")
    assert page.locator("[data-selected-text]").inner_text() == f"All {PAGE_SIZE + 5} selected"
    page.locator("#grid .tile-select").nth(3).click(force=True)  # all but this one
    assert page.locator("[data-selected-text]").inner_text() == f"{PAGE_SIZE + 4} of {PAGE_SIZE + 5} selected"
    page.click("#bulk-form summary:has-text('Add to playlist')")
    page.locator("#bulk-playlist option", has_text="Hall").wait_for(state="attached")  # fetched when first opened
    page.select_option("#bulk-playlist", str(playlist.pk))
    page.click("#bulk-form button[value=playlist]")
    page.locator("#toasts .toast", has_text=f"Added {PAGE_SIZE + 4} photos to the playlist Hall.").wait_for()
    left_out = page.locator("#grid figure[data-photo-id]").nth(3).get_attribute("data-photo-id")
    assert playlist.items.count() == PAGE_SIZE + 4
    assert not playlist.items.filter(photo_id=int(left_out)).exists() and len(photos) == PAGE_SIZE + 5


def test_an_album_page_removes_from_the_album_first_and_keeps_the_library_delete_apart(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1)]
    album = albums.create_album(name="Trip")
    albums.add_photos(album=album, photo_ids=[p.pk for p in photos])
    page = logged_in_page
    page.goto(album.get_absolute_url())
    page.locator(f"#photo-{photos[1].pk} .tile-select").click(force=True)
    actions = page.locator("#bulk-form .bulk-actions > *").evaluate_all("els => els.map(e => e.innerText.trim())")
    assert actions[0] == "Remove from album" and actions[-1] == "Move to trash"
    page.click("#bulk-form button[value=remove]")
    page.locator("#toasts .toast", has_text="Removed 1 photo from Trip.").wait_for()
    page.locator(f"#grid #photo-{photos[1].pk}").wait_for(state="detached")
    assert set(album.photos.values_list("pk", flat=True)) == {photos[0].pk, photos[2].pk}
    assert page.locator("#library-count").inner_text() == "2 photos"


def test_a_new_album_from_the_selection_and_a_name_clash_answered_at_the_field(logged_in_page, live):
    photos = [make_photo_row() for _ in range(2)]
    albums.create_album(name="Summer")
    page = logged_in_page
    page.goto("/")
    for photo in photos:
        page.locator(f"#photo-{photo.pk} .tile-select").click(force=True)
    page.click("#bulk-form summary:has-text('Add to album')")
    page.fill("#bulk-new-album", "summer")
    page.click("#bulk-form button[value=new-album]")
    error = page.locator("#bulk-form [data-error-for=name]")
    error.wait_for()
    assert "There is an album named “Summer” already" in error.inner_text()
    assert page.locator("#bulk-new-album").get_attribute("aria-invalid") == "true"
    page.fill("#bulk-new-album", "Autumn")
    page.click("#bulk-form button[value=new-album]")
    page.locator("#toasts .toast", has_text="Created the album Autumn with 2 photos.").wait_for()
    assert set(Album.objects.get(name="Autumn").photos.values_list("pk", flat=True)) == {p.pk for p in photos}


def test_add_photos_inside_an_album_picks_from_the_library(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2024, 5, day)) for day in (4, 3, 2, 1)]
    album = albums.create_album(name="Picked")
    albums.add_photos(album=album, photo_ids=[photos[0].pk])
    page = logged_in_page
    page.goto(album.get_absolute_url())
    page.click("text=Add from library")
    page.wait_for_url(f"**/albums/{album.pk}/add/")
    assert "In the album" in page.locator(f"#photo-{photos[0].pk}").inner_text()
    page.locator(f"#photo-{photos[1].pk} .tile-link").click()  # a click selects here
    page.locator(f"#photo-{photos[3].pk} .tile-link").click()
    assert page.locator("[data-selected-count]").inner_text() == "2"
    page.click("#bulk-form button[value=add]")
    page.wait_for_url(f"**/albums/{album.pk}/")
    assert set(album.photos.values_list("pk", flat=True)) == {photos[0].pk, photos[1].pk, photos[3].pk}
    page.locator("#toasts .toast", has_text="Added 2 photos to Picked.").wait_for()
