"""The gallery flows people do, in a real browser against Daphne and a real RQ worker."""

import inspect
import re
import threading
import time

import pytest

from gallery import albums
from gallery.models import Album, Photo
from processing import imaging
from tests.conftest import DATA
from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]

RECORD_PROGRESS = """
() => {
  window.__progress = [];
  new MutationObserver((mutations) => {
    for (const m of mutations) if (m.target.matches && m.target.matches("progress.upload-progress"))
      window.__progress.push(Number(m.target.getAttribute("value")));
  }).observe(document.body, { attributes: true, attributeFilter: ["value"], subtree: true });
}
"""


def wait_for(predicate, timeout=60, live=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out" + ("\n" + live.output() if live else ""))


def test_upload_shows_progress_then_live_stages_and_explains_rejections(logged_in_page, live):
    page = logged_in_page
    page.evaluate(RECORD_PROGRESS)
    page.set_input_files(
        "#upload-input",
        [str(DATA / "photos" / "landscape_orientation_3.jpg"), str(DATA / "bad" / "truncated_jpeg.jpg")],
    )
    try:
        page.locator("#grid figure[data-status='ready'] img.tile-image").first.wait_for(timeout=60_000)
    except Exception:
        raise AssertionError(live.output()) from None
    assert max(page.evaluate("window.__progress")) == 100  # the bar followed the real upload to the end
    rejected = page.locator(".upload-tile--error")
    rejected.wait_for()
    assert "truncated_jpeg.jpg" in rejected.inner_text()
    assert "damaged" in rejected.inner_text() or "cannot" in rejected.inner_text()

    # The same photo again: the tile says it is a duplicate and links to the photo already there.
    photo = Photo.objects.get(original_name="landscape_orientation_3.jpg")
    page.set_input_files("#upload-input", [str(DATA / "photos" / "landscape_orientation_3.jpg")])
    duplicate = page.locator(".upload-tile--duplicate")
    duplicate.wait_for()
    assert "Already in your library" in duplicate.inner_text()
    assert duplicate.locator("a").get_attribute("href") == f"/photos/{photo.pk}/"
    assert Photo.objects.count() == 1


def settle(page, predicate, describe=lambda: "", timeout=30):
    """Like wait_for, but lets Playwright deliver its events (route handlers) while waiting."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {describe()}"
        page.wait_for_timeout(100)


def uploaded_name(route) -> str:
    found = re.search(rb'filename="([^"]+)"', route.request.post_data_buffer or b"")
    return found.group(1).decode() if found else ""


def test_uploads_go_three_at_a_time_and_can_be_cancelled(logged_in_page, live):
    page = logged_in_page
    held = []  # upload requests held in flight while we look
    releasing = []  # once set, a request that reaches the handler late (after the release below) goes on at once

    def hold(route):
        if releasing:
            route.continue_()
        else:
            held.append(route)

    page.route("**/upload/", hold)
    files = [str(DATA / "photos" / f"portrait_orientation_{n}.jpg") for n in range(5)]
    page.set_input_files("#upload-input", files)
    tiles = page.locator(".upload-tile")
    tiles.nth(4).wait_for()
    settle(page, lambda: len(held) == 3)
    page.wait_for_timeout(300)
    assert len(held) == 3
    states = tiles.evaluate_all("tiles => tiles.map(t => t.dataset.uploadState || 'waiting')")
    assert states.count("waiting") == 2 and states.count("uploading") == 3

    # Tiles are newest first: the first is the last file (waiting), the last is the first file (in flight).
    tiles.first.locator("[data-upload-cancel]").click()
    tiles.last.locator("[data-upload-cancel]").click()
    assert tiles.count() == 3
    releasing.append(True)
    cancelled = [route for route in held if uploaded_name(route) == "portrait_orientation_0.jpg"]
    assert len(cancelled) == 1
    for route in held:
        try:
            # The browser aborted the cancelled request, but under load Chromium may not yet have told the route,
            # and continuing it would send the whole file on: drop it as the closed connection would.
            route.abort() if route in cancelled else route.continue_()
        except Exception:
            pass  # the cancelled request is gone already
    settle(
        page,
        lambda: Photo.objects.count() == 3 and tiles.count() == 0,
        lambda: (
            f"photos {sorted(Photo.objects.values_list('original_name', flat=True))}, "
            f"upload tiles {tiles.evaluate_all('tiles => tiles.map(t => t.dataset.uploadState)')}"
        ),
    )
    page.wait_for_timeout(500)
    names = set(Photo.objects.values_list("original_name", flat=True))
    assert names == {f"portrait_orientation_{n}.jpg" for n in (1, 2, 3)}


def test_upload_retries_after_a_network_failure(logged_in_page, live):
    page = logged_in_page
    attempts = []

    def flaky(route):
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/upload/", flaky)
    page.set_input_files("#upload-input", [str(DATA / "formats" / "hopper.jpg")])
    try:
        page.locator("#grid figure[data-photo-id]").first.wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(live.output()) from None
    assert len(attempts) == 2
    assert Photo.objects.filter(original_name="hopper.jpg").exists()


def test_album_create_add_photos_then_delete_keeps_the_photos(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1)]
    page = logged_in_page
    page.goto("/albums/")
    page.fill("input[name=name]", "Holiday")
    page.click("text=Create album")
    page.wait_for_url("**/albums/*/")
    album = Album.objects.get(name="Holiday")

    page.goto("/")
    page.locator(f"#photo-{photos[0].pk} .tile-select").check(force=True)
    page.locator(f"#photo-{photos[1].pk} .tile-select").check(force=True)
    page.click("#bulk-form summary:has-text('Add to album')")
    page.select_option("#bulk-album", str(album.pk))
    page.click("#bulk-form button[value=add]")
    page.locator("#toasts .toast", has_text="Added 2 photos to Holiday.").wait_for()
    assert set(album.photos.values_list("pk", flat=True)) == {photos[0].pk, photos[1].pk}

    page.goto(album.get_absolute_url())
    assert page.locator("#grid figure[data-photo-id]").count() == 2
    page.click("text=Album settings")
    page.click("text=Delete album…")
    page.click("button:has-text('Delete album')")
    page.wait_for_url("**/albums/")
    assert not Album.objects.exists()
    assert Photo.objects.count() == 3
    page.goto("/")
    assert page.locator("#grid figure[data-photo-id]").count() == 3


def test_lightbox_arrow_keys_browse_and_escape_returns(logged_in_page, live):
    newest, middle, oldest = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1))
    page = logged_in_page
    page.goto("/")
    page.click(f"#photo-{middle.pk} a.tile-link")
    page.wait_for_url(f"**/photos/{middle.pk}/")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/photos/{oldest.pk}/")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/photos/{middle.pk}/")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/photos/{newest.pk}/")
    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: url.split("#")[0].endswith(":" + str(live.port) + "/"))
    assert page.locator("#grid").count() == 1


def test_bulk_select_with_shift_click_then_delete(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2024, 5, day)) for day in (5, 4, 3, 2, 1)]
    page = logged_in_page
    page.goto("/")
    page.locator(f"#photo-{photos[1].pk} .tile-select").click(force=True)
    page.locator(f"#photo-{photos[3].pk} .tile-select").click(modifiers=["Shift"], force=True)
    assert page.locator("[data-selected-count]").inner_text() == "3"
    page.click("#bulk-form button[value=delete]")  # no question: the toast offers an Undo
    page.locator("#toasts .toast", has_text="Moved 3 photos to the trash.").wait_for()
    assert set(Photo.objects.values_list("pk", flat=True)) == {photos[0].pk, photos[4].pk}
    assert page.locator("#grid figure[data-photo-id]").count() == 2


def test_select_all_in_view(logged_in_page, live):
    for day in (3, 2, 1):
        make_photo_row(taken_at=aware(2024, 5, day))
    page = logged_in_page
    page.goto("/")
    page.locator("#grid .tile-select").first.click(force=True)
    page.click("[data-select-all]")
    assert page.locator("[data-selected-count]").inner_text() == "3"
    assert page.locator("#grid .tile-select:checked").count() == 3


def test_rotate_rerenders_the_photo_live(logged_in_page, live, client, user):
    client.force_login(user)
    with open(DATA / "photos" / "landscape_orientation_3.jpg", "rb") as handle:
        photo_id = client.post("/api/images/", {"file": handle}).json()["id"]
    wait_for(lambda: Photo.objects.get(pk=photo_id).status == Photo.Status.READY, live=live)
    page = logged_in_page
    page.goto(f"/photos/{photo_id}/")
    before = page.locator(".lightbox-image").get_attribute("src")
    page.click("[data-rotate=right]")
    page.wait_for_url(f"**/photos/{photo_id}/")
    try:  # the stage swaps in the re-rendered preview without a reload
        page.wait_for_function(
            "(old) => { const img = document.querySelector('.lightbox-image');"
            " return img && img.getAttribute('src') !== old && img.complete && img.naturalWidth > 0; }",
            arg=before,
            timeout=60_000,
        )
    except Exception:
        raise AssertionError(live.output()) from None
    photo = Photo.objects.get(pk=photo_id)
    assert photo.rotation == 90 and photo.status == Photo.Status.READY
    if "rotation" in inspect.signature(imaging.Source).parameters:  # once the renderer applies the turn
        width, height = page.locator(".lightbox-image").evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert height > width


def test_photo_added_to_album_from_the_photo_view(logged_in_page, live):
    photo = make_photo_row()
    album = albums.create_album(name="Favourites")
    page = logged_in_page
    page.goto(f"/photos/{photo.pk}/")
    page.select_option("#photo-album", str(album.pk))
    page.click("text=Add to album")
    page.locator(".chip >> text=Favourites").wait_for()
    assert list(album.photos.all()) == [photo]
    page.click("[aria-label='Remove from Favourites']")
    page.locator("text=Not in any album.").wait_for()
    assert not album.photos.exists() and Photo.objects.filter(pk=photo.pk).exists()


def test_library_scrolls_into_older_pages(logged_in_page, live):
    from gallery.library import PAGE_SIZE

    for number in range(PAGE_SIZE + 5):
        make_photo_row(taken_at=aware(2020, 1 + number % 12, 1 + number % 28))
    page = logged_in_page
    page.goto("/")
    tiles = page.locator("#grid figure[data-photo-id]")
    assert tiles.count() == PAGE_SIZE
    page.locator("#load-more").scroll_into_view_if_needed()
    page.wait_for_function(f"() => document.querySelectorAll('#grid figure[data-photo-id]').length === {PAGE_SIZE + 5}")
    assert page.locator("#load-more").count() == 0
    assert page.evaluate("window.location.pathname") == "/"  # same document, no navigation


def test_bulk_download_streams_a_zip_through_daphne(logged_in_page, live, client, user, tmp_path):
    import zipfile

    client.force_login(user)
    for name in ("hopper.jpg", "hopper_gray.jpg"):
        with open(DATA / "formats" / name, "rb") as handle:
            client.post("/api/images/", {"file": handle})
    # Rendered first: a tile swapped by a push while it is being clicked is a different element.
    wait_for(lambda: not Photo.objects.exclude(status=Photo.Status.READY).exists(), live=live)
    page = logged_in_page
    page.goto("/")
    page.locator("#grid .tile-select").first.click(force=True)
    page.click("[data-select-all]")
    with page.expect_download() as download_info:
        page.click("#bulk-form button[value=download]")
    path = tmp_path / "photos.zip"
    download_info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["hopper.jpg", "hopper_gray.jpg"]
        assert archive.read("hopper.jpg") == (DATA / "formats" / "hopper.jpg").read_bytes()


DROP_FILE = """
async ([name, base64]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
  const target = document.querySelector("h1") || document.body;
  for (const type of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
}
"""


def test_drop_anywhere_on_an_album_page_uploads_into_the_album(logged_in_page, live):
    import base64

    album = albums.create_album(name="Dropped")
    page = logged_in_page
    page.goto(album.get_absolute_url())
    page.wait_for_function("() => document.querySelector('main[data-live]') !== null")
    data = base64.b64encode((DATA / "photos" / "portrait_orientation_6.jpg").read_bytes()).decode()
    page.evaluate(DROP_FILE, ["dropped.jpg", data])
    try:
        page.locator("#grid figure[data-status='ready'] img.tile-image").first.wait_for(timeout=60_000)
    except Exception:
        raise AssertionError(live.output()) from None
    assert list(album.photos.values_list("original_name", flat=True)) == ["dropped.jpg"]


SWIPE = """
([fromX, toX]) => {
  const target = document.querySelector(".lightbox-main");
  const touch = (x) => new Touch({ identifier: 1, target, clientX: x, clientY: 300 });
  const start = touch(fromX);
  target.dispatchEvent(new TouchEvent("touchstart", { bubbles: true, touches: [start], changedTouches: [start] }));
  target.dispatchEvent(new TouchEvent("touchend", { bubbles: true, touches: [], changedTouches: [touch(toX)] }));
}
"""


def test_lightbox_swipes_browse_on_a_phone(browser, live, user):
    newest, middle, oldest = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (3, 2, 1))
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto(f"/photos/{middle.pk}/")
    page.evaluate(SWIPE, [300, 80])  # swipe left: the next (older) photo
    page.wait_for_url(f"**/photos/{oldest.pk}/")
    page.evaluate(SWIPE, [80, 300])
    page.wait_for_url(f"**/photos/{middle.pk}/")
    page.evaluate(SWIPE, [80, 300])
    page.wait_for_url(f"**/photos/{newest.pk}/")
    context.close()


def test_failed_tile_retry_button_renders_the_photo_live(logged_in_page, live):
    import shutil

    photo = make_photo_row(status=Photo.Status.FAILED, error="Rendering failed: the disk was full")
    (live.media_root / photo.original).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "formats" / "hopper.jpg", live.media_root / photo.original)
    page = logged_in_page
    page.goto("/")
    tile = page.locator(f"#photo-{photo.pk}")
    assert "the disk was full" in tile.inner_text()
    tile.locator(".tile-retry").click()  # an htmx POST: it must carry the CSRF token
    try:
        page.locator(f"#photo-{photo.pk}[data-status='ready'] img.tile-image").wait_for(timeout=60_000)
    except Exception:
        raise AssertionError(live.output()) from None
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY and photo.error == ""


def test_gallery_pages_break_no_content_security_policy_rule(logged_in_page, live):
    photo = make_photo_row(phash="ffff0000ffff0000")
    make_photo_row(phash="ffff0000ffff0001")
    album = albums.create_album(name="Policy")
    albums.add_photos(album=album, photo_ids=[photo.pk])
    page = logged_in_page
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    for url in ("/", "/albums/", album.get_absolute_url(), photo.get_absolute_url(), "/duplicates/"):
        response = page.goto(url)
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto("/")
    page.locator("#grid .tile-select").first.click(force=True)
    page.set_input_files("#upload-input", [str(DATA / "formats" / "hopper.jpg")])
    page.locator("#grid figure[data-status='ready']").first.wait_for(timeout=60_000)
    assert violations == []


RECORD_SOCKET_OPEN = "document.addEventListener('htmx:wsOpen', () => { window.__socketOpen = true; });"


def push(photo_id: int) -> None:
    """What a render job sends when a photo changes, from another thread (Playwright's event loop owns this one)."""
    from django.db import connections

    from processing import events

    def send():
        try:
            events.photo_changed(photo_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=send)
    thread.start()
    thread.join(30)


def test_a_push_swaps_only_its_tile_keeps_it_selected_and_counts_a_new_photo_once(logged_in_page, live):
    first, second = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (2, 1))
    page = logged_in_page
    page.add_init_script(RECORD_SOCKET_OPEN)
    page.goto("/")
    page.wait_for_function("() => window.__socketOpen === true")
    page.locator(f"#photo-{first.pk} .tile-select").click(force=True)
    mark = "id => { document.getElementById('photo-' + id).dataset.mark = 'old'; }"
    swapped = "id => !document.getElementById('photo-' + id).dataset.mark"
    for photo in (first, second):
        page.evaluate(mark, photo.pk)

    push(first.pk)
    page.wait_for_function(swapped, arg=first.pk)
    tile = page.locator(f"#photo-{first.pk}")
    assert tile.evaluate("t => t.classList.contains('is-selected') && t.querySelector('.tile-select').checked")
    assert page.locator("[data-selected-count]").inner_text() == "1"
    assert page.evaluate(swapped, second.pk) is False  # the other tile was left alone
    assert page.locator("#library-count").inner_text() == "2 photos"

    # A photo this page does not show yet arrives on top, and is counted once however often it is pushed.
    third = make_photo_row(taken_at=aware(2024, 5, 3))
    push(third.pk)
    page.locator(f"#photo-{third.pk}").wait_for()
    page.evaluate(mark, third.pk)
    push(third.pk)
    page.wait_for_function(swapped, arg=third.pk)
    assert page.locator(f"#grid [data-photo-id='{third.pk}']").count() == 1
    assert page.locator("#grid [data-photo-id]").first.get_attribute("id") == f"photo-{third.pk}"
    assert page.locator("#library-count").inner_text() == "3 photos"
    assert tile.evaluate("t => t.classList.contains('is-selected')")


def test_upload_offers_a_retry_button_after_repeated_network_failures(logged_in_page, live):
    page = logged_in_page
    page.clock.install()  # the automatic retries back off 1, 3 and 9 seconds
    page.goto("/")
    failures = []
    page.route("**/upload/", lambda route: (failures.append(route.request.url), route.abort("connectionreset")))
    page.set_input_files("#upload-input", [str(DATA / "formats" / "hopper.jpg")])
    tile = page.locator(".upload-tile")
    deadline = time.monotonic() + 30
    while tile.get_attribute("data-upload-state") != "error":
        assert time.monotonic() < deadline, f"still {tile.get_attribute('data-upload-state')!r}"
        page.clock.run_for(1000)
        page.wait_for_timeout(50)
    assert len(failures) == 4  # the first try and three automatic retries
    assert "could not be reached" in tile.inner_text()
    assert tile.locator("progress").count() == 0

    held = []
    page.unroute("**/upload/")
    page.route("**/upload/", lambda route: held.append(route))
    tile.locator("[data-upload-retry]").click()
    settle(page, lambda: len(held) == 1)
    assert tile.locator("progress").get_attribute("aria-label") == "Upload progress for hopper.jpg"
    held[0].continue_()
    page.unroute("**/upload/")
    try:
        page.locator("#grid figure[data-photo-id]").first.wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(live.output()) from None
    assert page.locator(".upload-tile").count() == 0
    assert Photo.objects.filter(original_name="hopper.jpg").count() == 1
