"""Uploads that behave: a new photo lands where a reload shows it, keeps its local preview until its thumbnail has
loaded, a summary stays in sight, leaving asks first, and a file that is no photo shows a file icon."""

import io

import pytest
from PIL import Image

from gallery.models import Photo
from tests.conftest import DATA
from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]

# Every animation frame (what a person could see), whether an uploaded photo's real tile shows neither the local
# preview nor a loaded thumbnail: the grey "Queued" flash.
WATCH_FOR_FLASHES = """
() => {
  window.__flashes = [];
  window.__uploaded = new Set();
  const look = () => {
    document.querySelectorAll("#grid figure[data-photo-id]").forEach((tile) => {
      if (tile.querySelector(".tile-local-preview")) window.__uploaded.add(tile.dataset.photoId);
      if (!window.__uploaded.has(tile.dataset.photoId)) return;
      const thumb = tile.querySelector("img.tile-image");
      const shown = tile.querySelector(".tile-local-preview") || (thumb && thumb.complete && thumb.naturalWidth > 0);
      if (!shown) window.__flashes.push(tile.dataset.status);
    });
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}
"""

ORDER = (
    "() => Array.from(document.querySelectorAll('#grid figure[data-photo-id], #grid .month-head'))"
    ".map(e => e.dataset.photoId || e.dataset.month)"
)


def jpeg_taken(when: str) -> bytes:
    image = Image.open(DATA / "photos" / "landscape_orientation_1.jpg")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_new_photo_keeps_its_preview_then_moves_to_its_month_as_a_reload_shows_it(logged_in_page, live, tmp_path):
    make_photo_row(taken_at=aware(2024, 5, 1))
    make_photo_row(taken_at=aware(2019, 3, 1))
    path = tmp_path / "june.jpg"
    path.write_bytes(jpeg_taken("2020:06:01 12:00:00"))
    page = logged_in_page
    page.goto("/")
    page.evaluate(WATCH_FOR_FLASHES)
    page.set_input_files("#upload-input", [str(path)])
    ready = page.locator("#grid figure[data-status='ready'] img.tile-image[alt^='june.jpg']")
    try:
        ready.wait_for(timeout=60_000)
    except Exception:
        raise AssertionError(live.output()) from None
    page.wait_for_function("() => !document.querySelector('.tile-local-preview')")
    assert page.evaluate("window.__flashes") == [] and page.evaluate("window.__uploaded.size") == 1
    photo = Photo.objects.get(original_name="june.jpg")
    page.wait_for_function("id => document.querySelector('#photo-' + id).dataset.month === '2020-06'", arg=photo.pk)
    shown = page.evaluate(ORDER)
    assert "2020-06" in shown and shown.index(str(photo.pk)) == shown.index("2020-06") + 1
    page.reload()
    assert page.evaluate(ORDER) == shown
    assert page.locator("#upload-summary").is_hidden()  # a new page: nothing uploading


def test_the_summary_stays_in_sight_and_a_file_that_is_no_photo_shows_an_icon(logged_in_page, live, tmp_path):
    for day in range(1, 29):
        make_photo_row(taken_at=aware(2024, 5, day))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8 this is not really a jpeg")
    page = logged_in_page
    page.goto("/")
    page.set_input_files("#upload-input", [str(DATA / "formats" / "hopper.jpg"), str(notes), str(fake)])
    summary = page.locator("#upload-summary")
    # Three go at once, so the photo may be answered after both refusals: wait for the summary's final words (a
    # wrong count never gets there, and the wait fails).
    page.wait_for_function(
        "() => document.querySelector('[data-summary-text]').textContent.trim() === '1 of 3 uploaded, 2 failed'"
    )
    assert summary.locator("[data-summary-text]").inner_text() == "1 of 3 uploaded, 2 failed"
    for name in ("notes.txt", "fake.jpg"):
        tile = page.locator(".upload-tile--error", has_text=name)
        assert tile.locator(".upload-generic").is_visible() and tile.locator("img").count() == 0
    page.mouse.wheel(0, 3000)
    page.wait_for_function("() => window.scrollY > 500")
    box = summary.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 900  # still in the viewport
    summary.locator("[data-summary-show-failed]").click()


def test_leaving_the_page_while_uploading_asks_first(logged_in_page, live):
    page = logged_in_page
    held = []
    page.route("**/upload/", lambda route: held.append(route))
    page.set_input_files("#upload-input", [str(DATA / "formats" / "hopper.jpg")])
    page.wait_for_function("() => document.querySelector('.upload-tile[data-upload-state=uploading]')")
    page.wait_for_timeout(200)
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay

    page.on("dialog", answer)
    page.locator("nav.site-nav a", has_text="Albums").click(no_wait_after=True)
    page.wait_for_timeout(1000)
    assert asked == ["beforeunload"]
    assert page.evaluate("location.pathname") == "/"
    page.unroute("**/upload/")
    for route in held:
        try:
            route.continue_()
        except Exception:
            pass  # the page's own request, already answered
