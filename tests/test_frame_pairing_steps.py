"""Pairing cannot be phished: the code leads to a page that shows who asked for it (address, browser, age) before
anything is paired, and making a browser an existing frame needs one more explicit yes. The QR link fills in the
code and skips nothing."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains

from gallery.frames import auth, pairing
from gallery.frames.models import Frame, PairingCode, Playlist
from gallery.frames.views import describe_browser

pytestmark = pytest.mark.django_db

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def frame_browser(address="81.2.69.142", agent=PHONE) -> tuple[Client, str]:
    browser = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    return browser, browser.get("/frame/").context["pairing"].code


def test_the_qr_link_only_fills_in_the_code(client_logged_in):
    _, code = frame_browser()
    page = client_logged_in.get(f"/frames/pair/?code={code}").content.decode()
    assert f'value="{code}"' in page and 'name="step" value="review"' in page
    assert "Who asked" in page and "Is this your frame?" not in page  # nothing about the browser yet
    assert not Frame.objects.exists()


def test_the_second_step_shows_the_address_browser_and_age_before_pairing(client_logged_in):
    browser, code = frame_browser()
    PairingCode.objects.filter(code=code).update(created_at=timezone.now() - timedelta(minutes=3))
    page = client_logged_in.post("/frames/pair/", {"step": "review", "code": code.lower()})
    html = page.content.decode()
    assertContains(page, "Is this your frame?")
    assert "81.2.69.142" in html and "An address on the internet, not this browser" in html
    assert "Chrome on Android" in html and PHONE in html
    assert "3\xa0minutes ago" in html
    assert 'name="step" value="pair"' in html and not Frame.objects.exists()
    assert client_logged_in.post("/frames/pair/", {"step": "pair", "code": code, "name": "Hall"}).status_code == 302
    assert browser.get("/frame/").status_code == 302 and auth.FRAME_COOKIE in browser.cookies


def test_an_unknown_code_stays_on_the_first_step(client_logged_in):
    page = client_logged_in.post("/frames/pair/", {"step": "review", "code": "ACDEFG"})
    assert page.status_code == 200 and "unknown, expired or already used" in page.content.decode()
    assert "Is this your frame?" not in page.content.decode()


def test_becoming_an_existing_frame_needs_an_explicit_yes_and_keeps_its_settings(client_logged_in):
    playlist = Playlist.objects.create(name="Living room")
    hall = Frame.objects.create(name="Hall", playlist=playlist, time_zone="Europe/Oslo")
    old_browser = Client()
    old_code = old_browser.get("/frame/").context["pairing"].code
    pairing.pair_frame(code=old_code, name="", playlist=None, replace=hall)
    assert old_browser.get("/frame/").status_code == 302  # collects its secret
    new_browser, code = frame_browser(address="192.168.1.40")

    asked = client_logged_in.post("/frames/pair/", {"step": "pair", "code": code, "replace": hall.pk})
    html = asked.content.decode()
    assert "Yes, this browser becomes Hall; the old one stops working" in html
    assert "192.168.1.40" in html and "An address on a local network." in html
    assert old_browser.get("/frame/state/").status_code == 200  # nothing changed yet

    confirmed = {"step": "pair", "code": code, "replace": hall.pk, "name": "", "playlist": "", "confirm_replace": "1"}
    assert client_logged_in.post("/frames/pair/", confirmed).status_code == 302
    assert new_browser.get("/frame/").status_code == 302
    assert new_browser.get("/frame/state/").json()["playlist"]["name"] == "Living room"
    assert old_browser.get("/frame/state/").status_code == 403
    hall.refresh_from_db()
    assert (hall.name, hall.playlist, hall.time_zone) == (
        "Hall",
        playlist,
        "Europe/Oslo",
    ) and Frame.objects.count() == 1


def test_browsers_are_described_for_people():
    assert describe_browser(PHONE) == "Chrome on Android"
    assert describe_browser("Mozilla/5.0 (X11; Linux aarch64; rv:128.0) Gecko/20100101 Firefox/128.0") == (
        "Firefox on Linux on ARM (a Raspberry Pi?)"
    )
    assert describe_browser("") == "A browser that did not say which"
