"""Re-pairing a frame through the confirmation steps: a new browser becomes the existing frame and shows its
playlist; the old browser stops working."""

import threading

import pytest

from gallery.frames import pairing, playlists
from gallery.frames.models import Frame, Playlist
from tests.test_browser_frame import rendered

pytestmark = [pytest.mark.browser, pytest.mark.live]


def in_a_thread(function, **kwargs):
    """Its push goes through async_to_sync, which refuses the thread where Playwright's event loop runs."""
    from django.db import connections

    def run():
        try:
            function(playlist=None, **kwargs)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)


@pytest.mark.django_db(transaction=True)
def test_re_pairing_keeps_the_playlist_through_the_confirm_steps(browser, live, logged_in_page):
    photos = [
        rendered(live.media_root, name) for name in ("landscape_orientation_1.jpg", "landscape_orientation_3.jpg")
    ]
    playlist = Playlist.objects.create(name="Landscapes", transition="none")
    playlists.add_photos(playlist=playlist, photo_ids=[p.pk for p in photos])
    hall = Frame.objects.create(name="Hall", playlist=playlist)
    old_context = browser.new_context(base_url=live.url, viewport={"width": 800, "height": 600})
    new_context = browser.new_context(base_url=live.url, viewport={"width": 800, "height": 600})
    try:
        old = old_context.new_page()
        old.goto("/frame/")
        in_a_thread(pairing.pair_frame, code=old.locator("#pairing-code").inner_text().strip(), name="", replace=hall)
        old.wait_for_selector("#stage .slide--active img", timeout=20000)

        new = new_context.new_page()
        new.goto("/frame/")
        code = new.locator("#pairing-code").inner_text().strip()
        admin = logged_in_page
        admin.goto(f"/frames/pair/?code={code}")  # the QR code's link: the code filled in, nothing skipped
        assert admin.locator("input[name=code]").input_value() == code
        admin.click("button:has-text('Continue')")
        facts = admin.locator(".pair-facts").inner_text()
        assert "127.0.0.1" in facts and "Chrome" in facts and "just now" in facts
        admin.select_option("select[name=replace]", label="Hall")
        admin.click("button:has-text('Pair this browser')")
        yes = admin.locator("button:has-text('Yes, this browser becomes Hall; the old one stops working')")
        yes.wait_for()
        assert Frame.objects.get(pk=hall.pk).playlist == playlist
        yes.click()
        admin.wait_for_url("**/frames/")

        new.wait_for_selector("#stage .slide--active img", timeout=20000)
        new.wait_for_function("document.body.dataset.showing", timeout=20000)
        shown = {int(pk) for pk in new.evaluate("document.body.dataset.showing").split(",")}
        assert shown <= {p.pk for p in photos}
        old.wait_for_selector("#pairing-code", timeout=20000)  # revoked: back to a code
        hall.refresh_from_db()
        assert hall.playlist == playlist and Frame.objects.count() == 1
    except Exception:
        print(live.output())
        raise
    finally:
        old_context.close()
        new_context.close()
