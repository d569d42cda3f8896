"""The grid from the keyboard: one Tab stop for the grid (a roving tabindex), arrow keys move, Space selects, Enter
opens; and a screen reader hears things once, from one live region."""

import pytest

from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]

FOCUSED = (
    "() => document.activeElement.closest('figure') ? document.activeElement.closest('figure').dataset.photoId : null"
)


def test_the_grid_is_one_tab_stop_moved_through_with_the_arrow_keys(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2024, 5, 20 - day)) for day in range(12)]
    page = logged_in_page
    # The square grid, whose columns CSS names (tests/test_browser_find.py moves through the justified one).
    page.context.add_cookies([{"name": "grid_layout", "value": "square", "url": live.url}])
    page.goto("/")
    page.locator(".filter-more > summary").focus()  # the last stop before the grid
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == str(photos[0].pk)
    page.keyboard.press("Tab")  # out of the grid at once: not through every tile and box
    assert page.evaluate(FOCUSED) is None
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUSED) == str(photos[0].pk)

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED) == str(photos[2].pk)
    columns = page.evaluate("getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED) == str(photos[2 + columns].pk)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    assert page.evaluate(FOCUSED) == str(photos[-1].pk)
    page.keyboard.press("Home")
    assert page.evaluate(FOCUSED) == str(photos[0].pk)

    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    assert page.locator("[data-selected-count]").inner_text() == "2"
    page.wait_for_function("() => document.getElementById('announcer').textContent === 'Selected. 2 selected.'")
    page.keyboard.press("Space")  # again: no longer selected
    assert page.locator("[data-selected-count]").inner_text() == "1"

    page.keyboard.press("Enter")  # opens, even while something is selected
    page.wait_for_url(f"**/photos/{photos[1].pk}/")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('.viewer')")
    assert page.evaluate(FOCUSED) == str(photos[1].pk)  # back on the tile it came from
    boxes = page.locator("#grid .tile-select").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert min(boxes) >= 24


def test_one_live_region_and_no_alerts_of_their_own(logged_in_page, live):
    make_photo_row()
    page = logged_in_page
    for url in ("/", "/albums/", "/trash/", "/duplicates/", "/frames/", "/playlists/"):
        page.goto(url)
        regions = page.evaluate("document.querySelectorAll('[aria-live], [role=alert], [role=status]').length")
        assert regions == 1, url
