"""The duplicates page with photos rendered by a real worker: flat images are never grouped, deleting asks first
and goes to the trash with an Undo, "Not duplicates" keeps a group apart."""

import io
import time

import pytest
from PIL import Image

from gallery.models import Photo
from tests.conftest import DATA

pytestmark = [pytest.mark.browser, pytest.mark.live]


def upload(client, name: str, data: bytes) -> int:
    handle = io.BytesIO(data)
    handle.name = name
    response = client.post("/api/images/", {"file": handle})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_flat_images_are_never_grouped_and_deleting_asks_first(logged_in_page, live, client, user):
    client.force_login(user)
    hopper = Image.open(DATA / "formats" / "hopper.jpg")
    ids = {
        "flat": upload(client, "grey.png", encoded(Image.new("RGB", (640, 480), (200, 200, 200)), "PNG")),
        "flat2": upload(client, "grey-too.png", encoded(Image.new("RGB", (600, 400), (201, 201, 201)), "PNG")),
        "big": upload(client, "hopper.jpg", (DATA / "formats" / "hopper.jpg").read_bytes()),
        "small": upload(client, "hopper-small.jpg", encoded(hopper.resize((64, 64)), "JPEG")),
    }
    deadline = time.monotonic() + 90
    while Photo.objects.filter(pk__in=ids.values()).exclude(status=Photo.Status.READY).exists():
        assert time.monotonic() < deadline, live.output()
        time.sleep(0.3)

    page = logged_in_page
    page.goto("/duplicates/")
    groups = page.locator("[data-dup-group]")
    assert groups.count() == 1  # the two hoppers; the flat images, alike as they are, have no fingerprint
    grouped = groups.locator("input[name=group]").evaluate_all("els => els.map(e => Number(e.value))")
    assert sorted(grouped) == sorted([ids["big"], ids["small"]])

    group = groups.first
    group.locator("[data-dup-delete]").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.locator("h2").inner_text() == "Move 1 photo to the trash?"
    dialog.locator("button[value=cancel]").click()
    assert Photo.objects.filter(pk=ids["small"]).exists()

    group.locator("[data-dup-delete]").click()
    dialog.locator("button[value=ok]").click()
    toast = page.locator("#toasts .toast", has_text="Kept 1, moved 1 to the trash.")
    toast.wait_for()
    assert group.is_hidden() and page.locator("#no-duplicates").is_visible()
    assert not Photo.objects.filter(pk=ids["small"]).exists()
    assert Photo.all_objects.get(pk=ids["small"]).trashed_at is not None

    toast.locator("button", has_text="Undo").click()
    group.wait_for()  # back, without a reload
    assert Photo.objects.filter(pk=ids["small"]).exists()

    group.locator("[data-dup-dismiss]").click()
    group.wait_for(state="hidden")
    page.reload()
    assert page.locator("[data-dup-group]").count() == 0
    assert Photo.objects.count() == 4
