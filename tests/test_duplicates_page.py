"""The duplicates page: what it says about photos without a fingerprint, Not duplicates, and asking first."""

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from gallery.models import Photo
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


def test_the_page_says_how_many_photos_have_no_fingerprint_yet_and_the_fix(client_logged_in):
    make_photo_row(phash="ffff0000ffff0000")
    unmeasured = [make_photo_row(phash="ffff0000ffff0001", phash_detail=None) for _ in range(2)]
    make_photo_row(status=Photo.Status.QUEUED)  # not rendered yet: measured when it is
    page = client_logged_in.get("/duplicates/")
    assertContains(page, "2 photos have no fingerprint yet")
    assertContains(page, "python manage.py reprocess --missing")
    Photo.objects.filter(pk__in=[p.pk for p in unmeasured]).update(phash_detail=20.0)
    assertNotContains(client_logged_in.get("/duplicates/"), "no fingerprint yet")


def test_each_group_offers_not_duplicates_and_names_what_goes(client_logged_in):
    first, second, third = (make_photo_row(phash=f"ffff0000ffff000{n}") for n in range(3))
    html = client_logged_in.get("/duplicates/").content.decode()
    assert 'name="dismiss" value="1"' in html
    assert "Move <span data-dup-count>2</span> to the trash…" in html
    client_logged_in.post("/duplicates/", {"group": [first.pk, second.pk, third.pk], "dismiss": "1"})
    assertContains(client_logged_in.get("/duplicates/"), "No look-alike photos found.")
    assert Photo.objects.count() == 3
