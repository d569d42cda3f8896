"""Screenshots of the find features (issue 15), to look at: not part of `make test` (the file name does not start
with test_). Run: .venv/bin/python -m pytest -q tests/screenshots_find.py -p no:randomly
They land in /tmp/shots-find/<name>-<desktop|phone>-<light|dark>.png."""

from pathlib import Path

import pytest

from gallery.people import invites
from gallery.sharing import links
from tests.find_scenes import seed_library

pytestmark = [pytest.mark.browser, pytest.mark.live]

OUT = Path("/tmp/shots-find")
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_screenshots(browser, live, user, django_user_model):
    OUT.mkdir(exist_ok=True)
    photos = seed_library(user)
    album = photos[0].albums.get()
    link = links.create_link(album=album, user=user, allow_download=True)
    django_user_model.objects.create_user("bob", "bob@example.com", "correct horse battery")
    django_user_model.objects.create_user("carol", "carol@example.com", "correct horse battery", is_active=False)
    invites.create_invite(by=user, note="Grandma")
    march = photos[9].taken_at
    for size, viewport in SIZES.items():
        for scheme in ("light", "dark"):
            context = browser.new_context(base_url=live.url, viewport=viewport, color_scheme=scheme)
            page = context.new_page()
            page.goto(link.get_absolute_url())
            shoot(page, "share", size, scheme)
            page.goto("/login/")
            page.fill("input[name=username]", user.username)
            page.fill("input[name=password]", "correct horse battery")
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            context.add_cookies([{"name": "grid_layout", "value": "justified", "url": live.url}])
            page.goto("/")
            shoot(page, "library-justified", size, scheme)
            page.goto("/?q=e&orientation=landscape&camera=X100V")
            shoot(page, "library-search", size, scheme)
            page.click(".filter-more > summary")
            shoot(page, "library-more-filters", size, scheme)
            page.goto("/?q=nothing+like+this")
            shoot(page, "library-no-matches", size, scheme)
            page.goto("/?taken_after=last+week")
            shoot(page, "library-bad-filter", size, scheme)
            page.goto(f"/photos/{photos[1].pk}/")
            shoot(page, "photo-view", size, scheme)
            page.goto("/")
            if size == "phone":
                page.click(".scrubber-toggle")
            page.locator("[data-scrubber] .scrubber-months a", has_text=march.strftime("%b")).first.click()
            page.wait_for_load_state()
            if size == "phone":
                page.click(".scrubber-toggle")
            shoot(page, "scrubber", size, scheme)
            context.add_cookies([{"name": "grid_layout", "value": "square", "url": live.url}])
            page.goto("/")
            shoot(page, "library-square", size, scheme)
            page.locator(".memories").scroll_into_view_if_needed()
            page.locator(".memories").screenshot(path=str(OUT / f"on-this-day-{size}-{scheme}.png"))
            page.goto("/people/")
            shoot(page, "people", size, scheme)
            context.close()


def shoot(page, name: str, size: str, scheme: str) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(OUT / f"{name}-{size}-{scheme}.png"))
