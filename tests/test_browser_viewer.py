"""Never lose your place: the photo view opens over the grid and closes back to the same scroll position with the
pages loaded so far; it still works as a page of its own. Bulk actions keep the page too."""

import pytest

from gallery import albums
from gallery.library import PAGE_SIZE
from gallery.models import Photo
from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]

TILES = "() => document.querySelectorAll('#grid figure[data-photo-id]').length"


def many_photos(count: int) -> list[Photo]:
    return [make_photo_row(taken_at=aware(2020, 1 + n % 12, 1 + n % 28, n % 24)) for n in range(count)]


def scroll_to_third_page(page) -> None:
    for pages in (2, 3):
        page.locator("#load-more").scroll_into_view_if_needed()
        page.wait_for_function(f"() => ({TILES})() >= {PAGE_SIZE * (pages - 1) + 1}")
        page.wait_for_function(f"() => ({TILES})() === {min(PAGE_SIZE * pages, 2 * PAGE_SIZE + 20)}")


@pytest.mark.parametrize("closing", ["Escape", "back"])
def test_closing_a_photo_opened_on_the_third_page_returns_to_the_same_place(logged_in_page, live, closing):
    many_photos(2 * PAGE_SIZE + 20)
    page = logged_in_page
    page.goto("/")
    page.evaluate("window.__samePage = true")
    scroll_to_third_page(page)
    tile = page.locator("#grid figure[data-photo-id]").nth(2 * PAGE_SIZE + 5)
    tile.scroll_into_view_if_needed()
    y, count = page.evaluate("window.scrollY"), page.evaluate(TILES)
    photo_id = tile.get_attribute("data-photo-id")

    tile.locator(".tile-link").click()
    page.wait_for_url(f"**/photos/{photo_id}/")
    page.locator(".viewer article.lightbox").wait_for()
    assert page.locator(".site-header").is_hidden()  # the overlay covers the page, header and all
    page.keyboard.press("ArrowRight")  # moves inside the overlay, without a page load
    page.wait_for_function(f"() => !location.pathname.endsWith('/{photo_id}/')")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/photos/{photo_id}/")

    if closing == "back":
        page.go_back()
    else:
        page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('.viewer')")
    assert page.evaluate("location.pathname") == "/"
    assert page.evaluate("window.scrollY") == y and page.evaluate(TILES) == count
    assert page.evaluate("window.__samePage") is True
    assert page.evaluate("document.activeElement.closest('figure').dataset.photoId") == photo_id


def test_the_photo_url_is_a_page_of_its_own_on_reload(logged_in_page, live):
    newer, photo, older = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1))
    page = logged_in_page
    page.goto("/")
    page.click(f"#photo-{photo.pk} .tile-link")
    page.wait_for_url(f"**/photos/{photo.pk}/")
    page.reload()
    assert page.locator(".viewer").count() == 0 and page.locator("main article.lightbox").count() == 1
    assert page.locator("#photo-title").inner_text() == str(photo)
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/photos/{older.pk}/")
    assert page.locator("#photo-title").inner_text() == str(older)


def test_delete_in_the_overlay_moves_on_and_undo_brings_the_tile_back(logged_in_page, live):
    first, second, third = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1))
    page = logged_in_page
    page.goto("/")
    page.click(f"#photo-{second.pk} .tile-link")
    page.locator(".viewer article.lightbox").wait_for()
    page.click(".viewer button:has-text('Move to trash')")
    page.wait_for_url(f"**/photos/{third.pk}/")  # on to the next photo
    assert page.locator(f"#grid #photo-{second.pk}").count() == 0
    page.locator("#toasts button:has-text('Undo')").click()
    page.locator(f"#grid #photo-{second.pk}").wait_for(state="attached")
    assert Photo.objects.filter(pk=second.pk).exists()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('.viewer')")
    order = page.locator("#grid figure[data-photo-id]").evaluate_all("els => els.map(e => Number(e.dataset.photoId))")
    assert order == [first.pk, second.pk, third.pk]


def test_download_as_shown_is_the_rendered_upright_version(logged_in_page, live):
    photo = make_photo_row()
    page = logged_in_page
    page.goto(f"/photos/{photo.pk}/")
    original = page.locator("a:has-text('Download original')").get_attribute("href")
    shown = page.locator("a:has-text('Download as shown')").get_attribute("href")
    assert original == f"/photos/{photo.pk}/original/" and shown == f"/photos/{photo.pk}/download/"


def test_a_bulk_add_keeps_the_scroll_position(logged_in_page, live):
    photos = many_photos(PAGE_SIZE)
    album = albums.create_album(name="Kept place")
    page = logged_in_page
    page.goto("/")
    page.evaluate("window.__samePage = true")
    tile = page.locator("#grid figure[data-photo-id]").nth(60)
    tile.scroll_into_view_if_needed()
    tile.locator(".tile-select").click(force=True)
    page.locator("#grid figure[data-photo-id]").nth(61).locator(".tile-select").click(force=True)
    y = page.evaluate("window.scrollY")
    assert y > 1000
    page.click("#bulk-form summary:has-text('Add to album')")
    page.select_option("#bulk-album", str(album.pk))
    page.click("#bulk-form button[value=add]")
    page.locator("#toasts .toast", has_text="Added 2 photos to Kept place.").wait_for()
    assert page.evaluate("window.scrollY") == y and page.evaluate("window.__samePage") is True
    assert album.photos.count() == 2 and len(photos) == PAGE_SIZE
