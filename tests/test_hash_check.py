"""POST /api/images/check/: which SHA-256 hashes the library holds, for clients that upload only what is new."""

import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from gallery.models import ApiToken
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    _, token = ApiToken.issue(user)
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    return lambda body: client.post("/api/images/check/", body, content_type="application/json")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_existing_and_missing_with_the_trash_counting_as_existing(api, member):
    held = make_photo_row(uploaded_by=member)  # someone else's photo: members and staff see the whole library
    trashed = make_photo_row(trashed_at=timezone.now())
    unknown = sha("never uploaded")
    response = api({"sha256": [unknown, held.sha256.upper(), trashed.sha256, unknown]})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "existing": {
            held.sha256: {"id": held.pk, "trashed": False},
            trashed.sha256: {"id": trashed.pk, "trashed": True},
        },
        "missing": [unknown],
    }


def test_an_empty_list_is_an_empty_answer(api):
    assert api({"sha256": []}).json() == {"existing": {}, "missing": []}


def test_a_thousand_is_the_limit(api):
    hashes = [sha(str(number)) for number in range(1001)]
    assert api({"sha256": hashes[:1000]}).status_code == 200
    response = api({"sha256": hashes})
    assert response.status_code == 400
    assert response.json() == {"error": "sha256: at most 1000 hashes per request, not 1001; send batches."}


@pytest.mark.parametrize("bad", ["abc", "g" * 64, sha("x") + "0", "", 12])
def test_a_malformed_hash_is_400_naming_it(api, bad):
    response = api({"sha256": [sha("fine"), bad]})
    assert response.status_code == 400
    assert response.json()["error"].startswith("sha256.1: ")


@pytest.mark.parametrize("body", [{}, {"sha256": "abc"}, {"hashes": []}, "not json"])
def test_a_malformed_body_is_400(api, body):
    response = api(body)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


def test_anonymous_is_401(user):
    response = Client().post("/api/images/check/", {"sha256": []}, content_type="application/json")
    assert response.status_code == 401 and set(response.json()) == {"error"}
