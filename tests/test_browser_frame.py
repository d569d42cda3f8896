"""A headless Chromium "frame" paired through the gallery shows the slideshow; the admin changes its playlist and
the frame shows the new photos without a reload. Two browser contexts: the admin and the frame."""

import re

import pytest

from gallery.frames import auth, playlists
from gallery.frames.models import Frame, Playlist
from gallery.models import hash_token
from tests.conftest import DATA, render_chain
from tests.test_render import make_photo

# Browser tests run last (tests/conftest.py): Playwright leaves an event loop in the main thread.
pytestmark = [pytest.mark.browser, pytest.mark.live]


def rendered(media_root, name: str):
    photo = make_photo(media_root, DATA / "photos" / name, sha256=name.ljust(64, "f")[:64])
    assert render_chain(photo.pk) == "ready"
    return photo


def showing(page) -> set[int]:
    value = page.evaluate("document.body.dataset.showing || ''")
    return {int(part) for part in value.split(",") if part}


@pytest.mark.django_db(transaction=True)
def test_frame_paired_through_the_ui_follows_a_playlist_change_live(browser, live, logged_in_page):
    admin = logged_in_page
    landscapes = [
        rendered(live.media_root, "landscape_orientation_1.jpg"),
        rendered(live.media_root, "landscape_orientation_3.jpg"),
    ]
    portraits = [
        rendered(live.media_root, "portrait_orientation_1.jpg"),
        rendered(live.media_root, "portrait_orientation_3.jpg"),
    ]

    first, second = Playlist.objects.create(name="Landscapes"), Playlist.objects.create(name="Portraits")
    playlists.add_photos(playlist=first, photo_ids=[p.pk for p in landscapes])
    playlists.add_photos(playlist=second, photo_ids=[p.pk for p in portraits])

    context = browser.new_context(base_url=live.url, viewport={"width": 800, "height": 600})
    frame = context.new_page()
    try:
        frame.goto("/frame/")
        code = frame.locator("#pairing-code").inner_text().strip()
        assert len(code) == 6

        admin.goto("/frames/")
        admin.click("text=Pair a frame")
        admin.fill("input[name=code]", code)
        admin.click("button:has-text('Continue')")  # then who asked for it, before anything is paired
        admin.locator("text=Is this your frame?").wait_for()
        admin.fill("input[name=name]", "Hall")
        admin.select_option("select[name=playlist]", label="Landscapes")
        admin.click("button:has-text('Pair this browser')")
        admin.wait_for_url("**/frames/")

        # The frame notices by itself, collects its secret and starts the slideshow.
        frame.wait_for_selector("#stage .slide--active img", timeout=20000)
        frame.wait_for_function("document.body.dataset.showing", timeout=20000)
        assert showing(frame) <= {p.pk for p in landscapes} and showing(frame)
        image = frame.locator("#stage .slide--active img").first
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert "/frame/v/" in image.get_attribute("src")
        frame.evaluate("window.stillTheSamePage = true")

        # The frames page shows it online, live.
        admin.goto("/frames/")
        hall = Frame.objects.get(name="Hall")
        admin.wait_for_selector(f"#frame-{hall.pk}[data-online=true]", timeout=20000)
        admin.wait_for_selector(f"#frame-{hall.pk} [data-screen]:has-text('800×600')", timeout=20000)

        # "Next" on the frames page moves the frame on at once (the interval is 30 s).
        before = showing(frame)
        admin.click(f"#frame-{hall.pk} button:has-text('Next')")
        frame.wait_for_function(
            "old => document.body.dataset.showing && document.body.dataset.showing !== old",
            arg=",".join(str(pk) for pk in before),
            timeout=10000,
        )
        assert showing(frame) != before and showing(frame) <= {p.pk for p in landscapes}

        admin.goto(f"/frames/{hall.pk}/")
        admin.select_option("select[name='frame-playlist']", label="Portraits")
        admin.click("button:has-text('Save')")
        admin.wait_for_url(f"**/frames/{hall.pk}/")

        # Two portraits side by side on a landscape screen, without a reload.
        portrait_ids = {p.pk for p in portraits}
        frame.wait_for_function(
            "ids => (document.body.dataset.showing || '').split(',').map(Number).some(id => ids.includes(id))",
            arg=list(portrait_ids),
            timeout=20000,
        )
        assert showing(frame) == portrait_ids
        frame.wait_for_selector("#stage .slide--active.slide--side-by-side", timeout=10000)
        assert frame.locator("#stage .slide--active.slide--side-by-side img").count() == 2
        assert frame.evaluate("window.stillTheSamePage === true")
    except Exception:
        print(live.output())
        raise
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_frame_keeps_cycling_cached_photos_offline_and_catches_up_on_return(browser, live, user):

    photos = [
        rendered(live.media_root, "landscape_orientation_1.jpg"),
        rendered(live.media_root, "landscape_orientation_3.jpg"),
    ]
    playlist = Playlist.objects.create(name="Hall", interval=3, transition="none")
    playlists.add_photos(playlist=playlist, photo_ids=[p.pk for p in photos])
    secret = "browser-test-" + "x" * 40
    Frame.objects.create(name="Hall", playlist=playlist, secret_digest=hash_token(secret))

    context = browser.new_context(base_url=live.url, viewport={"width": 800, "height": 600})
    context.add_cookies([{"name": auth.FRAME_COOKIE, "value": secret, "url": live.url}])
    frame = context.new_page()
    # The frame's websocket goes through Playwright, so the test can cut it (a server or network that goes away)
    # and refuse reconnects until the "network" returns.
    sockets = {"allowed": True, "open": []}

    def route(ws):
        if not sockets["allowed"]:
            ws.close(code=1001, reason="away")
            return
        ws.connect_to_server()
        sockets["open"].append(ws)

    frame.route_web_socket(re.compile(r".*/ws/frame/$"), route)
    try:
        frame.goto("/frame/")
        ids = [p.pk for p in photos]
        # One full cycle online: both photos decoded and cached.
        for photo_id in (ids[0], ids[1], ids[0]):
            frame.wait_for_function("id => document.body.dataset.showing === String(id)", arg=photo_id, timeout=20000)
        sockets["allowed"] = False
        context.set_offline(True)
        for ws in sockets["open"]:
            ws.close(code=1001, reason="away")
        for photo_id in (ids[1], ids[0], ids[1]):
            frame.wait_for_function("id => document.body.dataset.showing === String(id)", arg=photo_id, timeout=20000)
        # Changed while the frame was away: no push can reach it, so it must catch up when it reconnects.
        extra = rendered(live.media_root, "landscape_orientation_5.jpg")
        playlists.add_photos(playlist=playlist, photo_ids=[extra.pk])
        sockets["allowed"] = True
        context.set_offline(False)
        frame.wait_for_function("id => document.body.dataset.showing === String(id)", arg=extra.pk, timeout=90000)
    except Exception:
        print(live.output())
        raise
    finally:
        context.close()
