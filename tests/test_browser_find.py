"""Finding photos in a real browser (issue 15's interface): the search box and chips whose state is the URL (Back
works), the favourite star and the F key, the date scrubber and scrolling up after a jump, and the justified grid
with the square one as a remembered choice."""

import re
import time

import pytest

from gallery import albums
from gallery.models import Favorite, Photo
from tests.gallery_factories import aware, make_photo_row
from tests.test_browser_gallery import RECORD_SOCKET_OPEN, push

pytestmark = [pytest.mark.browser, pytest.mark.live]


def tiles(page) -> list[int]:
    return [
        int(pk)
        for pk in page.eval_on_selector_all("#grid figure[data-photo-id]", "els => els.map(e => e.dataset.photoId)")
    ]


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_search_and_chips_live_in_the_url_and_back_goes_back(logged_in_page, live):
    beach = make_photo_row(taken_at=aware(2024, 7, 3), original_name="Beach day.jpg")
    tall = make_photo_row(taken_at=aware(2024, 7, 2), original_name="beach walk.jpg", width=600, height=900)
    make_photo_row(taken_at=aware(2024, 7, 1), original_name="Snow.jpg", format="PNG")
    page = logged_in_page
    page.goto("/")
    page.fill("#search-q", "beach")
    page.press("#search-q", "Enter")
    page.wait_for_url(re.compile(r"/\?q=beach$"))  # empty fields stay out of the URL
    assert sorted(tiles(page)) == sorted([beach.pk, tall.pk])
    assert "2 of 3 photos match" in page.inner_text("#match-count")

    page.click("a.filter-chip:has-text('Portrait')")
    page.wait_for_url(re.compile(r"/\?q=beach&orientation=portrait$"))
    assert tiles(page) == [tall.pk]
    assert page.get_attribute("a.filter-chip:has-text('Portrait')", "aria-current") == "true"

    page.go_back()
    page.wait_for_url(re.compile(r"/\?q=beach$"))
    assert sorted(tiles(page)) == sorted([beach.pk, tall.pk])
    assert page.input_value("#search-q") == "beach"

    # A select in More filters applies at once, keeping the search.
    page.click(".filter-more > summary")
    page.select_option("#filter-format", "PNG")
    page.wait_for_url(re.compile(r"/\?q=beach&format=PNG$"))
    assert tiles(page) == []
    assert page.is_visible("#no-matches")
    page.click("#no-matches a:has-text('Clear filters')")
    page.wait_for_url(re.compile(r"/$"))
    assert len(tiles(page)) == 3


def test_the_star_and_the_f_key_favour_a_photo_on_tiles_and_in_the_photo_view(logged_in_page, live, user):
    photos = [make_photo_row(taken_at=aware(2024, 5, 20 - day)) for day in range(3)]
    page = logged_in_page
    page.goto("/")
    first = page.locator(f"#photo-{photos[0].pk}")
    star = first.locator(".tile-star")
    assert star.get_attribute("aria-pressed") == "false"
    assert star.evaluate("el => getComputedStyle(el).opacity") == "0"  # shown on hover or focus only
    first.locator(".tile-link").focus()
    star.wait_for(state="visible")
    page.wait_for_function(
        f"() => getComputedStyle(document.querySelector('#photo-{photos[0].pk} .tile-star')).opacity === '1'"
    )
    page.keyboard.press("f")
    wait_for(lambda: Favorite.objects.filter(user=user, photo=photos[0]).exists())
    assert star.get_attribute("aria-pressed") == "true"
    page.wait_for_function("() => document.getElementById('announcer').textContent === 'Added to favourites.'")

    page.locator(f"#photo-{photos[1].pk}").hover()
    page.click(f"#photo-{photos[1].pk} .tile-star")
    wait_for(lambda: Favorite.objects.filter(user=user, photo=photos[1]).exists())

    # In the photo view: the star shows the state, F takes it back, and the tile follows.
    page.click(f"#photo-{photos[0].pk} .tile-link")
    viewer_star = page.locator(".viewer .lightbox-star")
    viewer_star.wait_for()
    assert viewer_star.get_attribute("aria-pressed") == "true"
    page.keyboard.press("f")
    wait_for(lambda: not Favorite.objects.filter(user=user, photo=photos[0]).exists())
    assert viewer_star.get_attribute("aria-pressed") == "false"
    page.keyboard.press("Escape")
    assert star.get_attribute("aria-pressed") == "false"

    page.click("a.filter-chip:has-text('Favourites')")
    page.wait_for_url(re.compile(r"/\?favorite=1$"))
    assert tiles(page) == [photos[1].pk]
    assert page.get_attribute(f"#photo-{photos[1].pk} .tile-star", "aria-pressed") == "true"


def test_the_scrubber_jumps_to_a_month_and_newer_photos_load_above(logged_in_page, live):
    # Two photos every three days from late December back to March 2024: June is beyond the first page (120).
    step = aware(2024, 1, 2) - aware(2024, 1, 1)
    count = 200
    for n in range(count):
        make_photo_row(taken_at=aware(2024, 12, 28, 12) - step * n * 1.5)
    page = logged_in_page
    page.goto("/")
    june = page.locator("[data-scrubber] a[aria-label^='June 2024']")
    june.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("May 2024")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/\?before=\d+\.0$"))
    assert page.get_attribute("[data-scrubber] a[aria-current]", "aria-label").startswith("June 2024")
    heads = page.eval_on_selector_all("#grid .month-head", "els => els.map(e => e.dataset.month)")
    assert heads[0] == "2024-06"
    while page.locator("#load-newer").count():
        before = len(tiles(page))
        page.click("#load-newer")
        page.wait_for_function(f"() => document.querySelectorAll('#grid figure').length > {before}")
        # Each month has one heading from the moment the page is swapped in, not only once htmx has settled it.
        months = page.eval_on_selector_all("#grid .month-head", "els => els.map(e => e.dataset.month)")
        assert len(months) == len(set(months))
        page.wait_for_function("() => !document.querySelector('#grid .htmx-added')")  # settled: its link is live
    heads = page.eval_on_selector_all("#grid .month-head", "els => els.map(e => e.dataset.month)")
    assert heads[: heads.index("2024-06") + 1] == [
        "2024-12",
        "2024-11",
        "2024-10",
        "2024-09",
        "2024-08",
        "2024-07",
        "2024-06",
    ]
    sorts = page.eval_on_selector_all("#grid figure", "els => els.map(e => e.dataset.sort)")
    keys = [tuple(int(part) for part in key.split(".")) for key in sorts]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)  # in order, none twice


def test_the_justified_grid_keeps_shapes_moves_by_rows_and_the_square_grid_is_remembered(logged_in_page, live):
    shapes = [(1200, 800), (800, 1200), (1000, 1000), (1600, 900), (900, 1200), (1200, 800)] * 3
    photos = [make_photo_row(taken_at=aware(2024, 5, 28 - n), width=w, height=h) for n, (w, h) in enumerate(shapes)]
    page = logged_in_page
    page.goto("/")
    assert "grid--justified" in page.get_attribute("#grid", "class")
    boxes = [page.locator(f"#photo-{photo.pk}").bounding_box() for photo in photos]
    rows = {}
    for photo, box in zip(photos, boxes, strict=True):
        assert box["width"] / box["height"] == pytest.approx(photo.width / photo.height, rel=0.03)
        rows.setdefault(round(box["y"]), []).append(box)
    assert len(rows) > 1
    for row in list(rows.values())[:-1]:  # each full row is one height, edge to edge
        assert max(b["height"] for b in row) - min(b["height"] for b in row) < 1.5
    grid = page.locator("#grid").bounding_box()
    first_row = list(rows.values())[0]
    assert first_row[-1]["x"] + first_row[-1]["width"] == pytest.approx(grid["x"] + grid["width"], abs=2)

    page.locator(f"#photo-{photos[0].pk} .tile-link").focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.closest('figure').dataset.photoId")
    second_row_ids = [photo.pk for photo, box in zip(photos, boxes, strict=True) if round(box["y"]) == list(rows)[1]]
    assert int(focused) in second_row_ids

    page.click("[data-layout='square']")
    assert "grid--square" in page.get_attribute("#grid", "class")
    box = page.locator(f"#photo-{photos[1].pk}").bounding_box()
    assert box["width"] == pytest.approx(box["height"], abs=1)
    page.reload()
    assert "grid--square" in page.get_attribute("#grid", "class")
    assert page.get_attribute("[data-layout='square']", "aria-pressed") == "true"


def test_a_pushed_tile_keeps_its_star_and_its_place_in_the_justified_grid(logged_in_page, live, user):
    photos = [make_photo_row(taken_at=aware(2024, 5, 20 - n), width=1200, height=800) for n in range(4)]
    Favorite.objects.create(user=user, photo=photos[1])
    page = logged_in_page
    page.add_init_script(RECORD_SOCKET_OPEN)
    page.goto("/")
    page.wait_for_function("() => window.__socketOpen === true")
    page.evaluate("id => { document.getElementById('photo-' + id).dataset.mark = 'old'; }", photos[1].pk)
    push(photos[1].pk)  # rendered for no one in particular: without this account's star
    page.wait_for_function("id => !document.getElementById('photo-' + id).dataset.mark", arg=photos[1].pk)
    assert page.get_attribute(f"#photo-{photos[1].pk} .tile-star", "aria-pressed") == "true"
    assert tiles(page) == [photo.pk for photo in photos]
    box = page.locator(f"#photo-{photos[1].pk}").bounding_box()
    assert box["width"] / box["height"] == pytest.approx(1.5, rel=0.03)


def test_a_filtered_page_takes_in_live_only_the_photos_its_filters_keep(logged_in_page, live):
    page = logged_in_page
    page.add_init_script(RECORD_SOCKET_OPEN)
    page.goto("/?q=beach")
    page.wait_for_function("() => window.__socketOpen === true")
    assert page.is_visible("#no-matches")

    city = make_photo_row(taken_at=aware(2024, 6, 1), original_name="City.jpg", status=Photo.Status.QUEUED)
    beach = make_photo_row(taken_at=aware(2024, 6, 2), original_name="Beach.jpg", status=Photo.Status.QUEUED)
    forest = make_photo_row(taken_at=aware(2024, 6, 3), original_name="Forest.jpg")
    push(city.pk)
    push(beach.pk)
    push(forest.pk)
    page.wait_for_function(f"() => document.getElementById('photo-{beach.pk}') !== null")
    assert tiles(page) == [beach.pk]
    assert page.get_attribute(f"#photo-{beach.pk}", "data-status") == "queued"
    assert not page.is_visible("#no-matches")

    # The render reads a caption that matches: the next push brings the other photo in, in library order.
    Photo.objects.filter(pk=city.pk).update(caption="The beach at dusk", status=Photo.Status.READY)
    Photo.objects.filter(pk=beach.pk).update(status=Photo.Status.READY)
    push(city.pk)
    push(beach.pk)
    page.wait_for_function(f"() => document.getElementById('photo-{city.pk}') !== null")
    page.wait_for_function(f"() => document.getElementById('photo-{beach.pk}').dataset.status === 'ready'")
    assert tiles(page) == [beach.pk, city.pk]
    assert page.get_attribute(f"#photo-{city.pk}", "data-status") == "ready"
    # The photos that do not match still grow the library.
    page.wait_for_function("() => document.getElementById('match-count').textContent === '2 of 3 photos match'")


def test_on_a_phone_the_scrubber_is_a_button_that_opens_the_timeline(logged_in_page, live):
    for month in (3, 5, 7):
        make_photo_row(taken_at=aware(2024, month, 10))
    page = logged_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    toggle = page.locator(".scrubber-toggle")
    assert toggle.is_visible() and "Jump to date" in toggle.inner_text()
    assert not page.locator("[data-scrubber] a[aria-label^='May 2024']").is_visible()
    box = toggle.bounding_box()
    assert box["y"] + box["height"] > 844 - 80  # at the bottom, in reach of a thumb
    toggle.click()
    may = page.locator("[data-scrubber] a[aria-label^='May 2024']")
    assert may.is_visible()
    may.focus()
    page.keyboard.press("Escape")
    assert not may.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('scrubber-toggle')")
    toggle.click()
    may.click()
    page.wait_for_url(re.compile(r"/\?before=\d+\.0$"))
    assert page.eval_on_selector_all("#grid .month-head", "els => els.map(e => e.dataset.month)")[0] == "2024-05"


def test_select_all_on_a_filtered_page_takes_only_what_the_filters_keep(logged_in_page, live, user):
    beaches = [make_photo_row(taken_at=aware(2024, 7, day), original_name=f"Beach {day}.jpg") for day in (1, 2)]
    make_photo_row(taken_at=aware(2024, 7, 3), original_name="Snow.jpg")
    album = albums.create_album(name="Trip", owner=user)
    page = logged_in_page
    page.goto("/?q=beach")
    page.locator(f"#photo-{beaches[0].pk} .tile-select").click(force=True)
    page.click("[data-select-all]")
    page.wait_for_function("() => document.getElementById('announcer').textContent === 'All 2 photos selected.'")
    page.click("#bulk-form summary:has-text('Add to album')")
    page.select_option("#bulk-album", str(album.pk))
    page.click("#bulk-form button[name=action][value=add]")
    wait_for(lambda: album.memberships.count() == 2)
    assert set(album.memberships.values_list("photo_id", flat=True)) == {photo.pk for photo in beaches}
