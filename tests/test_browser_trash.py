"""Nothing is lost by a click: every delete goes to the trash with an Undo, and the trash page restores or deletes
forever, in a real browser against Daphne and a real RQ worker."""

import pytest

from gallery import trash
from gallery.models import Photo
from tests.gallery_factories import aware, make_photo_row

pytestmark = [pytest.mark.browser, pytest.mark.live]

NO_RELOAD = "() => { window.__samePage = true; }"


def tile_ids(page) -> list[int]:
    return [
        int(pk)
        for pk in page.locator("#grid figure[data-photo-id]").evaluate_all("els => els.map(e => e.dataset.photoId)")
    ]


def test_bulk_delete_then_undo_puts_the_photos_back_in_place_without_a_reload(logged_in_page, live):
    photos = [make_photo_row(taken_at=aware(2024, 5, day)) for day in (5, 4, 3, 2, 1)]
    page = logged_in_page
    page.goto("/")
    page.evaluate(NO_RELOAD)
    before = tile_ids(page)
    page.locator(f"#photo-{photos[1].pk} .tile-select").click(force=True)
    page.locator(f"#photo-{photos[3].pk} .tile-select").click(force=True)
    page.click("#bulk-form button[value=delete]")
    toast = page.locator("#toasts .toast", has_text="Moved 2 photos to the trash.")
    toast.wait_for()
    page.wait_for_function("() => document.querySelectorAll('#grid figure[data-photo-id]').length === 3")
    assert set(Photo.objects.values_list("pk", flat=True)) == {photos[0].pk, photos[2].pk, photos[4].pk}
    assert page.locator("#library-count").inner_text() == "3 photos"
    assert page.evaluate("document.activeElement.textContent") == "Undo"  # the keyboard is on the Undo

    toast.locator("button", has_text="Undo").click()
    page.wait_for_function("() => document.querySelectorAll('#grid figure[data-photo-id]').length === 5")
    assert tile_ids(page) == before  # each back where it was
    assert Photo.objects.count() == 5
    assert page.locator("#library-count").inner_text() == "5 photos"
    assert page.evaluate("window.__samePage") is True


def test_ctrl_z_undoes_the_last_delete(logged_in_page, live):
    photo = make_photo_row()
    page = logged_in_page
    page.goto("/")
    page.locator(f"#photo-{photo.pk} .tile-select").click(force=True)
    page.click("#bulk-form button[value=delete]")
    page.locator("#toasts [data-undo]").wait_for()
    page.wait_for_function("() => !document.querySelector('#grid figure[data-photo-id]')")
    page.keyboard.press("Control+z")
    page.locator(f"#grid #photo-{photo.pk}").wait_for()
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_the_trash_page_restores_and_deletes_forever_after_asking(logged_in_page, live):
    kept, restored, purged, other = (make_photo_row(taken_at=aware(2024, 5, day)) for day in (4, 3, 2, 1))
    trash.trash_photos(photo_ids=[restored.pk, purged.pk, other.pk])
    page = logged_in_page
    page.goto("/trash/")
    assert "30 days" in page.locator("main").inner_text()
    assert sorted(tile_ids(page)) == sorted([restored.pk, purged.pk, other.pk])
    assert page.locator(f"#photo-{restored.pk}").inner_text().strip().endswith("days left")

    page.locator(f"#photo-{restored.pk} .tile-link").click()  # in the trash a click selects
    page.click("#bulk-form button[value=restore]")
    page.locator("#toasts .toast", has_text="Restored 1 photo.").wait_for()
    page.locator(f"#grid #photo-{restored.pk}").wait_for(state="detached")
    assert Photo.objects.filter(pk=restored.pk).exists()

    page.locator(f"#photo-{purged.pk} .tile-link").click()
    page.click("#bulk-form button[value=purge]")
    dialog = page.locator("#confirm-dialog")
    assert dialog.locator("h2").inner_text() == "Delete 1 photo forever?"
    dialog.locator("button[value=cancel]").click()
    assert Photo.all_objects.filter(pk=purged.pk).exists()  # asked, and no was the answer
    page.click("#bulk-form button[value=purge]")
    dialog.locator("button[value=ok]").click()
    page.locator(f"#grid #photo-{purged.pk}").wait_for(state="detached")
    assert not Photo.all_objects.filter(pk=purged.pk).exists()

    page.click("text=Empty trash")
    assert dialog.locator("h2").inner_text() == "Empty the trash?"
    assert "Every photo in the trash (1 photo) is deleted forever" in dialog.inner_text()
    dialog.locator("button[value=ok]").click()
    page.locator("#toasts .toast", has_text="Emptied the trash").wait_for()
    assert not Photo.all_objects.in_trash().exists()
    assert set(Photo.objects.values_list("pk", flat=True)) == {kept.pk, restored.pk}
