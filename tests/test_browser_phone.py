"""A phone (390x844, touch): the nav behind Menu, the uploader behind one button, select mode (the Select button,
or a long press) with visible boxes and a one-row toolbar at the bottom."""

import pytest

from gallery.models import Photo
from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]

LONG_PRESS = """
async (id) => {
  const target = document.querySelector(`#photo-${id} .tile-link`);
  const box = target.getBoundingClientRect();
  const touch = new Touch({ identifier: 7, target, clientX: box.x + 20, clientY: box.y + 20 });
  target.dispatchEvent(new TouchEvent("touchstart", { bubbles: true, touches: [touch], changedTouches: [touch] }));
  await new Promise((resolve) => setTimeout(resolve, 700));
  target.dispatchEvent(new TouchEvent("touchend", { bubbles: true, touches: [], changedTouches: [touch] }));
  target.click();  // the click a lifted finger makes: taken by the long press, it opens nothing
}
"""


@pytest.fixture
def phone(browser, live, user):
    context = browser.new_context(
        base_url=live.url, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    yield page
    context.close()


def test_phone_header_and_uploader_are_compact(phone):
    make_photo_row()
    phone.goto("/")
    assert phone.locator(".site-nav").is_hidden() and phone.locator(".nav-menu summary").is_visible()
    phone.click(".nav-menu summary")
    phone.locator(".nav-menu nav a", has_text="Trash").click()
    phone.wait_for_url("**/trash/")
    phone.goto("/")
    header = phone.locator(".site-header").bounding_box()
    assert header["height"] < 70
    assert phone.locator(".dropzone").bounding_box()["height"] < 50  # one button, not the drop area
    assert phone.locator("[data-upload-submit]").is_hidden()


def test_phone_select_mode_by_button_and_by_long_press(phone):
    photos = [make_photo_row(taken_at=aware(2024, 5, day)) for day in (4, 3, 2, 1)]
    phone.goto("/")
    phone.click("[data-select-mode]")
    phone.wait_for_function(
        "id => getComputedStyle(document.querySelector(`#photo-${id} .tile-select`)).opacity === '1'", arg=photos[0].pk
    )  # the boxes show
    box = phone.locator(f"#photo-{photos[0].pk} .tile-select").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    phone.locator(f"#photo-{photos[0].pk} .tile-link").tap()
    phone.locator(f"#photo-{photos[1].pk} .tile-link").tap()
    assert phone.locator("[data-selected-count]").inner_text() == "2"
    assert phone.evaluate("location.pathname") == "/"  # a tap selected, it opened nothing
    bar = phone.locator("#bulk-form").bounding_box()
    assert bar["height"] < 70 and bar["y"] + bar["height"] >= 844 - 1  # one row, at the bottom
    phone.click("[data-select-mode]")  # Done: out of select mode, nothing selected
    assert phone.locator("#bulk-form").is_hidden()

    phone.evaluate(LONG_PRESS, photos[2].pk)
    assert phone.locator("[data-selected-count]").inner_text() == "1"
    assert phone.evaluate("document.body.classList.contains('select-mode')")
    assert phone.evaluate("location.pathname") == "/"
    phone.locator(f"#photo-{photos[3].pk} .tile-link").tap()
    phone.click("#bulk-form button[value=delete]")
    phone.locator("#toasts .toast", has_text="Moved 2 photos to the trash.").wait_for()
    assert set(Photo.objects.values_list("pk", flat=True)) == {photos[0].pk, photos[1].pk}
