"""Pairing and the frame's access: codes expire and work once, secrets are hashed and revocable, and a frame reads
only variants of the playlist it shows now (no originals, API, admin or other playlists)."""

from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from gallery.frames import auth, pairing
from gallery.frames.models import Frame, FrameSchedule, PairingCode, Playlist, PlaylistItem
from gallery.frames.state import variant_url
from gallery.models import hash_token
from tests.gallery_factories import make_photo_row


def photo_with_files(media_root, **fields):
    photo = make_photo_row(**fields)
    for variant in photo.variants.all():
        path = media_root / variant.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF-variant-" + variant.name.encode())
    return photo


def start(client) -> str:
    response = client.get("/frame/")
    assert response.status_code == 200
    assert "frame/pair.html" in [t.name for t in response.templates]
    return response.context["pairing"].code


def pair(admin, code, name="Kitchen", playlist=None, **extra):
    """The last step of pairing (after the code, and the page that shows who asked for it)."""
    data = {"step": "pair", "code": code, "name": name, "playlist": playlist.pk if playlist else "", **extra}
    return admin.post("/frames/pair/", data)


def paired_frame_client(admin, playlist=None, name="Kitchen") -> tuple[Client, Frame]:
    frame_client = Client()
    code = start(frame_client)
    response = pair(admin, code, name=name, playlist=playlist)
    assert response.status_code == 302, response.content
    response = frame_client.get("/frame/")
    assert response.status_code == 302 and auth.FRAME_COOKIE in response.cookies
    return frame_client, Frame.objects.get(name=name)


@pytest.fixture
def admin(client_logged_in):
    return client_logged_in


@pytest.fixture(autouse=True)
def account(user):
    """Until an account exists every page leads to the setup form."""
    return user


@pytest.mark.django_db
def test_unpaired_browser_sees_a_short_code_and_holds_a_claim_cookie(client):
    response = client.get("/frame/")
    code = response.context["pairing"].code
    assert len(code) == pairing.CODE_LENGTH and set(code) <= set(pairing.CODE_ALPHABET)
    assert code.encode() in response.content
    claim = response.cookies[pairing.CLAIM_COOKIE]
    assert claim["httponly"] and claim["samesite"] == "Strict"
    assert PairingCode.objects.get(code=code).claim_digest == hash_token(claim.value)
    # The same browser keeps its code on reload.
    assert client.get("/frame/").context["pairing"].code == code


@pytest.mark.django_db
def test_pairing_through_the_gallery_gives_the_frame_a_hashed_secret(admin):
    playlist = Playlist.objects.create(name="Hall")
    frame_client, frame = paired_frame_client(admin, playlist)
    secret = frame_client.cookies[auth.FRAME_COOKIE]
    assert len(secret.value) >= 43  # token_urlsafe(32): 256 bits
    assert frame.secret_digest == hash_token(secret.value) and secret.value not in frame.secret_digest
    assert secret["httponly"] and int(secret["max-age"]) <= 366 * 86400
    assert frame.playlist == playlist
    response = frame_client.get("/frame/")
    assert response.status_code == 200 and "frame/show.html" in [t.name for t in response.templates]
    assert frame_client.get("/frame/state/").json()["playlist"]["name"] == "Hall"


@pytest.mark.django_db
def test_an_expired_code_cannot_be_confirmed(client, admin):
    code = start(client)
    PairingCode.objects.filter(code=code).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = pair(admin, code)
    assert response.status_code == 200 and "expired" in response.content.decode()
    assert not Frame.objects.exists()
    # The frame browser gets a new code instead.
    assert start(client) != code


@pytest.mark.django_db
def test_a_code_works_once(client, admin):
    code = start(client)
    assert pair(admin, code, name="One").status_code == 302
    response = pair(admin, code, name="Two")
    assert response.status_code == 200 and "already used" in response.content.decode()
    assert list(Frame.objects.values_list("name", flat=True)) == ["One"]
    with pytest.raises(pairing.PairingError):
        pairing.confirm_pairing(code=code, frame=Frame.objects.get())
    # The secret is handed out once: a second claim with the same cookie gets nothing.
    row = PairingCode.objects.get(code=code)
    assert pairing.claim_secret(row) is not None
    assert pairing.claim_secret(row) is None


@pytest.mark.django_db
def test_only_the_browser_that_showed_the_code_becomes_the_frame(client, admin):
    code = start(client)
    pair(admin, code)
    intruder = Client()
    intruder.cookies["glowworm_pairing"] = "guess"
    response = intruder.get("/frame/")
    assert response.status_code == 200 and auth.FRAME_COOKIE not in response.cookies
    assert intruder.get("/frame/state/").status_code == 403
    assert client.get("/frame/").status_code == 302  # the real one


@pytest.mark.django_db
def test_revoked_frame_loses_access_at_once(admin, media_root):
    photo = photo_with_files(media_root)
    playlist = Playlist.objects.create(name="Hall")
    PlaylistItem.objects.create(playlist=playlist, photo=photo)
    frame_client, frame = paired_frame_client(admin, playlist)
    src = frame_client.get("/frame/state/").json()["slides"][0]["photos"][0]["src"]
    assert frame_client.get(src).status_code == 200
    response = admin.post(f"/frames/{frame.pk}/revoke/", {"confirmed": "1"})
    assert response.status_code == 302
    assert frame_client.get("/frame/state/").status_code == 403
    assert frame_client.get(src).status_code == 403
    page = frame_client.get("/frame/")
    assert "frame/pair.html" in [t.name for t in page.templates]  # shows a code again


@pytest.mark.django_db
def test_pairing_an_existing_frame_again_rotates_its_secret(admin):
    old_client, frame = paired_frame_client(admin)
    new_client = Client()
    code = start(new_client)
    assert pair(admin, code, name="", replace=frame.pk, confirm_replace="1").status_code == 302
    assert new_client.get("/frame/").status_code == 302
    assert new_client.get("/frame/state/").status_code == 200
    assert old_client.get("/frame/state/").status_code == 403
    assert Frame.objects.count() == 1


@pytest.mark.django_db
def test_frame_reads_only_its_playlists_variants(admin, media_root):
    mine, other = photo_with_files(media_root), photo_with_files(media_root)
    hall, office = Playlist.objects.create(name="Hall"), Playlist.objects.create(name="Office")
    PlaylistItem.objects.create(playlist=hall, photo=mine)
    PlaylistItem.objects.create(playlist=office, photo=other)
    frame_client, _ = paired_frame_client(admin, hall)
    state = frame_client.get("/frame/state/").json()
    assert [p["id"] for s in state["slides"] for p in s["photos"]] == [mine.pk]
    src = state["slides"][0]["photos"][0]["src"]
    response = frame_client.get(src)
    assert response.status_code == 200 and b"RIFF-variant" in b"".join(response.streaming_content)
    foreign = other.variants.get(name="preview")
    assert frame_client.get(variant_url(foreign)).status_code == 404
    # A known variant id with a wrong file name is refused too (no guessing by id).
    own = mine.variants.get(name="preview")
    assert frame_client.get(f"/frame/v/{own.pk}/other.webp").status_code == 404


@pytest.mark.django_db
def test_frame_cannot_reach_originals_api_media_or_admin_pages(admin, media_root):
    photo = photo_with_files(media_root)
    playlist = Playlist.objects.create(name="Hall")
    PlaylistItem.objects.create(playlist=playlist, photo=photo)
    frame_client, frame = paired_frame_client(admin, playlist)
    variant = photo.variants.get(name="preview")
    for url in (
        f"/photos/{photo.pk}/original/",
        f"/photos/{photo.pk}/",
        f"/media/{variant.file}",
        "/",
        "/frames/",
        f"/frames/{frame.pk}/",
        f"/playlists/{playlist.pk}/",
        "/admin/",
    ):
        response = frame_client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    assert frame_client.get("/api/images/").status_code == 401
    response = frame_client.post(f"/frames/{frame.pk}/command/", {"command": "next"})
    assert response.status_code == 302 and response["Location"] == f"/login/?next=/frames/{frame.pk}/command/"


@pytest.mark.django_db
def test_state_carries_no_metadata(admin, media_root):
    photo = photo_with_files(media_root, gps_latitude=52.5, gps_longitude=13.4, camera_make="Canon")
    playlist = Playlist.objects.create(name="Hall", captions=True)
    PlaylistItem.objects.create(playlist=playlist, photo=photo)
    frame_client, _ = paired_frame_client(admin, playlist)
    text = frame_client.get("/frame/state/").content.decode()
    for leak in ("52.5", "13.4", "Canon", "gps", "original", "sha256", "/media/", "/api/"):
        assert leak not in text


@pytest.mark.django_db
def test_scheduled_playlist_is_readable_and_the_default_is_not_meanwhile(admin, media_root):
    day, night = photo_with_files(media_root), photo_with_files(media_root)
    default, evening = Playlist.objects.create(name="Day"), Playlist.objects.create(name="Evening")
    PlaylistItem.objects.create(playlist=default, photo=day)
    PlaylistItem.objects.create(playlist=evening, photo=night)
    frame_client, frame = paired_frame_client(admin, default)
    FrameSchedule.objects.create(
        frame=frame, weekdays="0123456", start=time(0, 0), end=time(0, 0), action="playlist", playlist=evening
    )
    state = frame_client.get("/frame/state/").json()
    assert state["playlist"]["name"] == "Evening"
    assert frame_client.get(variant_url(day.variants.get(name="preview"))).status_code == 404
    assert frame_client.get(variant_url(night.variants.get(name="preview"))).status_code == 200


@pytest.mark.django_db
def test_empty_playlist_is_a_calm_state_not_an_error(admin):
    frame_client, _ = paired_frame_client(admin, Playlist.objects.create(name="Empty"))
    state = frame_client.get("/frame/state/").json()
    assert state["slides"] == [] and state["frame"]["name"] == "Kitchen" and not state["blank"]
    page = frame_client.get("/frame/").content.decode()
    assert "Nothing to show yet" in page and "Kitchen" in page


@pytest.mark.django_db
def test_frame_pages_have_no_inline_script_or_style(client, admin):
    for html in (client.get("/frame/").content.decode(), paired_frame_client(admin)[0].get("/frame/").content.decode()):
        assert "<script>" not in html and "style=" not in html and "<style" not in html


@pytest.mark.django_db
def test_the_secret_cookie_is_renewed_once_a_day_while_in_use(admin):
    frame_client, _ = paired_frame_client(admin)
    response = frame_client.get("/frame/state/")
    renewed = response.cookies[auth.FRAME_COOKIE]
    assert renewed.value == frame_client.cookies[auth.FRAME_COOKIE].value
    assert int(renewed["max-age"]) == int(auth.SECRET_MAX_AGE.total_seconds())
    assert auth.FRAME_COOKIE not in frame_client.get("/frame/state/").cookies  # once a day is enough


@pytest.mark.django_db
def test_a_flood_of_unpaired_browsers_is_capped(monkeypatch):
    monkeypatch.setattr(pairing, "MAX_OPEN_CODES", 3)
    for _ in range(3):
        assert Client().get("/frame/").status_code == 200
    response = Client().get("/frame/")
    assert response.status_code == 429 and PairingCode.objects.count() == 3


@pytest.mark.django_db
def test_qr_code_of_the_approve_link_is_only_for_the_browser_showing_the_code(client):
    code = start(client)
    response = client.get("/frame/qr.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") and b"<path" in response.content
    assert Client().get("/frame/qr.svg").status_code == 403
    import io

    import segno

    expected = io.BytesIO()  # the QR code of the approve link with this browser's code filled in
    segno.make(f"http://testserver/frames/pair/?code={code}", error="m").save(
        expected, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False
    )
    assert response.content == expected.getvalue()


@pytest.mark.django_db
def test_deleting_a_frame_asks_first_then_revokes_it(admin):
    frame_client, frame = paired_frame_client(admin, name="Hall frame")
    page = admin.get(f"/frames/{frame.pk}/delete/")
    assertContains(page, "<h1>Delete the frame “Hall frame”?</h1>", html=True)
    assertContains(page, "<p>The frame stops working at once and shows a pairing code again.</p>", html=True)
    assertNotContains(page, "The photos stay in your library")  # the playlist's wording is for playlists only
    assertContains(page, '<button type="submit" class="button--danger">Delete frame</button>', html=True)
    assertContains(page, f'<a class="button button--quiet" href="/frames/{frame.pk}/">Cancel</a>', html=True)
    assert frame_client.get("/frame/state/").status_code == 200  # asking changed nothing

    response = admin.post(f"/frames/{frame.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/frames/"
    assert not Frame.objects.filter(pk=frame.pk).exists()
    assert frame_client.get("/frame/state/").status_code == 403
