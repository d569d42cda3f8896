"""The core loop in a real browser: log in, upload, see the placeholder, see the thumbnail replace it live."""

import pytest

from gallery.models import Photo
from tests.conftest import DATA

pytestmark = [pytest.mark.browser, pytest.mark.live]

RECORD_STATUSES = """
() => {
  window.__noReload = true;
  window.__statuses = {};
  const record = (el) => {
    if (!el.dataset || !el.dataset.photoId) return;
    const seen = (window.__statuses[el.dataset.photoId] ||= []);
    const state = el.dataset.status + (el.querySelector("img.tile-image") ? "+thumbnail" : "");
    if (seen[seen.length - 1] !== state) seen.push(state);
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const n of m.addedNodes) if (n.nodeType === 1) {
      record(n); n.querySelectorAll("[data-photo-id]").forEach(record);
    }
  }).observe(document.body, { childList: true, subtree: true });
}
"""


def test_upload_shows_placeholder_then_live_thumbnail(logged_in_page, live):
    page = logged_in_page
    page.wait_for_function("() => document.querySelector('main[data-live]') !== null")
    page.evaluate(RECORD_STATUSES)
    page.set_input_files("#upload-input", [str(DATA / "photos" / "portrait_orientation_6.jpg")])

    tile = page.locator("#grid figure[data-photo-id]").first
    tile.wait_for()
    photo_id = tile.get_attribute("data-photo-id")
    thumbnail = page.locator(f"#photo-{photo_id}[data-status='ready'] img.tile-image")
    try:
        thumbnail.wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(live.output()) from None

    statuses = page.evaluate(f"window.__statuses['{photo_id}']")
    assert statuses[0] in ("queued", "processing"), statuses  # a placeholder, without a thumbnail, came first
    assert statuses[-1] == "ready+thumbnail", statuses
    assert page.locator(f"#photo-{photo_id}").count() == 1  # the upload answer and the pushes made one tile
    assert page.locator("#library-count").inner_text() == "1 photo"  # was "0 photos" when the page loaded
    assert page.evaluate("window.__noReload") is True  # same document: no reload happened
    width, height = thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert height > width > 0  # upright portrait, and the image really loaded
    assert Photo.objects.get(pk=photo_id).status == Photo.Status.READY


def test_photo_uploaded_in_one_tab_appears_live_in_another(logged_in_page, live):
    other = logged_in_page.context.new_page()
    other.goto("/")
    other.wait_for_function("() => document.querySelector('main[data-live]') !== null")
    other.wait_for_timeout(500)  # let its websocket connect
    logged_in_page.set_input_files("#upload-input", [str(DATA / "photos" / "landscape_orientation_2.jpg")])
    try:
        other.locator("#grid figure[data-status='ready'] img.tile-image").first.wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(live.output()) from None
    assert other.locator("#library-count").inner_text() == "1 photo"
