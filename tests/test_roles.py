"""Every URL, walked as a member and as staff (tests/test_hostile_input.py walks them anonymously): members are
refused what only staff may do, and changes to other people's albums and photos; staff are refused nothing; nobody
gets a server error. Every URL gets a GET and a POST, with real objects behind its ids."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from gallery import albums, api
from gallery.frames.models import Frame, FrameSchedule, Playlist
from gallery.models import Album, Variant
from gallery.people import invites
from gallery.people.models import Invite
from gallery.sharing import links
from gallery.sharing.models import ShareLink
from tests.gallery_factories import make_photo_row
from tests.test_hostile_input import FRAME_SECRET_URL_NAMES, PAIRING_URL_NAMES, every_url

pytestmark = pytest.mark.django_db

# Staff only: frames, playlists, people, emptying the trash. Members get 403.
STAFF_ONLY = {
    "frames", "frame-pair", "frame-detail", "frame-command", "frame-revoke", "frame-delete", "frame-schedule-add",
    "frame-schedule-delete", "playlists", "playlist-choices", "playlist-add-selection", "playlist", "playlist-add",
    "playlist-albums", "playlist-reorder", "playlist-move", "playlist-remove", "playlist-delete", "people",
    "person-change", "invite-revoke", "trash-empty",
}  # fmt: skip
# Changes to an album or photo that is someone else's: members get 403 (these ids belong to the staff account).
OWNERS_ONLY = {
    "photo-rotate", "photo-delete", "album-add", "album-rename", "album-delete", "album-cover", "album-share",
    "album-link-revoke", "album-link-restore", "api:list_links", "api:create_link", "api:revoke_link",
    "api:restore_image", "api:delete_image", "api:rename_album", "api:delete_album", "api:add_album_photos",
    "api:remove_album_photos",
}  # fmt: skip
# The frame's own endpoints answer to a frame's secret or claim cookie, never to a user (the anonymous walk and the
# frames tests cover them); logging out would end the walk; /healthz says 503 while no worker runs, for anyone.
NOT_FOR_USERS = FRAME_SECRET_URL_NAMES | PAIRING_URL_NAMES | {"logout", "admin:logout", "healthz"}


@pytest.fixture
def world():
    """A person to change (pk 1), staff (2) and a member (3); a photo, an album, a frame, a playlist, a schedule, a
    share link and an invite, each with pk 1, all the staff account's."""
    User = get_user_model()
    User.objects.create_user("carol", pk=1, password="carol's long pass phrase")
    staff = User.objects.create_user("alice", pk=2, password="correct horse battery", is_staff=True, is_superuser=True)
    member = User.objects.create_user("bob", pk=3, password="another long pass phrase")
    photo = make_photo_row(pk=1, uploaded_by=staff)
    album = albums.create_album(name="Staff's", owner=staff)
    # MariaDB does not reset auto-increment counters between tests: renumber what has no pk argument (nothing
    # refers to these rows yet).
    Album.objects.filter(pk=album.pk).update(id=1)
    album = Album.objects.get(pk=1)
    albums.add_photos(album=album, photo_ids=[photo.pk])
    playlist = Playlist.objects.create(pk=1, name="Hall")
    frame = Frame.objects.create(pk=1, name="Kitchen", playlist=playlist, secret_digest="f" * 64)
    FrameSchedule.objects.create(pk=1, frame=frame, weekdays="0123456", start=time(22), end=time(6), action="blank")
    link = links.create_link(album=album, user=staff)
    invite = invites.create_invite(by=staff)
    ShareLink.objects.filter(pk=link.pk).update(id=1)
    Invite.objects.filter(pk=invite.pk).update(id=1)
    link, invite = ShareLink.objects.get(pk=1), Invite.objects.get(pk=1)
    return {"staff": staff, "member": member, "album": album, "link": link, "invite": invite, "photo": photo}


# API bodies that pass validation, so the answer is about who asks, not about the body's shape.
API_BODIES = {
    "add_album_photos": {"photos": [1]},
    "remove_album_photos": {"photos": [1]},
    "rename_album": {"name": "Renamed"},
    "create_album": {"name": "New"},
    "change_image": {"favorite": True},
}
DESTRUCTIVE = ("delete", "purge", "revoke", "empty", "remove")


def api_methods() -> dict[str, list[str]]:
    """The HTTP methods of each API operation, by its view's name (its URL name)."""
    return {
        operation.view_func.__name__: [method.lower() for method in operation.methods]
        for _, router in api.api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
    }


def walk(world):
    """(name, url) for every URL a user can be asked about, its ids naming the world's objects; what deletes comes
    last, so the rest still finds its objects."""
    assert world["album"].pk == 1 and world["link"].pk == 1 and world["invite"].pk == 1
    assert Variant.objects.filter(photo=world["photo"]).exists()
    found = []
    for name, url in every_url():
        if name in NOT_FOR_USERS:
            continue
        url = url.replace("/s/x/", f"/s/{world['link'].token}/")
        found.append((name, url.replace("/invite/x/", f"/invite/{world['invite'].token}/")))
    return sorted(found, key=lambda item: any(word in item[0] for word in DESTRUCTIVE))


def answers(user, name, url, methods):
    """Each method's answer: an API operation's own method (with a valid body), GET and POST for the rest."""
    operation = name.removeprefix("api:")
    statuses = {}
    for method in methods[operation] if name.startswith("api:") and operation in methods else ("get", "post"):
        client = Client()
        client.force_login(user)  # again each time: a POST may have changed the session
        if name.startswith("api:") and method != "get":
            response = getattr(client, method)(url, API_BODIES.get(operation, {}), content_type="application/json")
        else:
            response = getattr(client, method)(url)
        statuses[method] = response
        assert response.status_code < 500, (user.username, method, name, url, response.status_code)
    return statuses


def test_every_url_as_a_member(world):
    member = world["member"]
    urls = walk(world)  # loads the URL conf, which mounts the nested apps' API routers
    methods = api_methods()
    seen = set()
    for name, url in urls:
        seen.add(name)
        got = answers(member, name, url, methods)
        codes = {method: response.status_code for method, response in got.items()}
        if name.startswith(("admin:", "django_rq:")) and name not in ("admin:login", "admin:logout"):
            for response in got.values():  # the admin's own login page, which says the account is not allowed
                if response.status_code == 401:
                    assert name.endswith("home_json"), (name, codes)  # the RQ dashboard's JSON, for monitors
                else:
                    assert response.status_code == 302, (name, codes)
                    assert response["Location"].startswith("/admin/login/"), (name, response["Location"])
        elif name in STAFF_ONLY or name in OWNERS_ONLY:
            assert set(codes.values()) <= {403, 405} and 403 in codes.values(), (name, url, codes)
        else:
            assert 403 not in codes.values() and 401 not in codes.values(), (name, url, codes)
    assert STAFF_ONLY | OWNERS_ONLY <= seen, (STAFF_ONLY | OWNERS_ONLY) - seen


def test_every_url_as_staff(world):
    staff = world["staff"]
    urls = walk(world)
    methods = api_methods()
    for name, url in urls:
        if "django_rq" in name and ("/x/" in url or "scheduler" in name):
            # django-rq's own pages for a job id that does not exist raise NoSuchJobError, and its scheduler pages
            # want rq-scheduler, which Glowworm does not use (upstream, and only staff reach them). The dashboard's
            # queue and worker pages are walked.
            continue
        got = answers(staff, name, url, methods)
        codes = {method: response.status_code for method, response in got.items()}
        if name == "admin:autocomplete" or (name.startswith("admin:") and name.endswith("_add")):
            # Django's answer to an autocomplete request without its parameters, and the add page of a model whose
            # rows are made elsewhere (share links, invites, frames...), is 403 for anyone.
            continue
        assert 403 not in codes.values() and 401 not in codes.values(), (name, url, codes)


def test_members_change_their_own_albums_and_photos(client, world):
    member = world["member"]
    client.force_login(member)
    own_photo = make_photo_row(uploaded_by=member)
    own_album = albums.create_album(name="Bob's", owner=member)
    assert client.post(f"/albums/{own_album.pk}/rename/", {"name": "Bob's trip"}).status_code == 302
    assert client.get(f"/albums/{own_album.pk}/share/").status_code == 200
    assert client.post(f"/photos/{own_photo.pk}/rotate/", {"degrees": "90"}).status_code == 302
    assert client.post(f"/photos/{own_photo.pk}/delete/").status_code == 302
    own_photo.refresh_from_db()
    assert own_photo.trashed_at is not None
    # The bulk toolbar moves only their own photos to the trash, and says so.
    response = client.post("/photos/bulk/", {"action": "delete", "photo": [world["photo"].pk]}, follow=True)
    world["photo"].refresh_from_db()
    assert world["photo"].trashed_at is None
    assert "is someone else" in response.content.decode()
    # Nor can they add to someone else's album from there.
    added = client.post("/photos/bulk/", {"action": "add", "album": world["album"].pk, "photo": [own_photo.pk]})
    assert added.status_code == 403
    # New albums are theirs.
    client.post("/albums/", {"name": "Bob's second"})
    assert albums.Album.objects.get(name="Bob's second").owner == member


def test_a_members_trash_holds_their_own_photos(client, world):
    member = world["member"]
    mine = make_photo_row(uploaded_by=member, trashed_at=timezone.now())
    theirs = make_photo_row(uploaded_by=world["staff"], trashed_at=timezone.now())
    client.force_login(member)
    html = client.get("/trash/").content.decode()
    assert f'id="photo-{mine.pk}"' in html and f'id="photo-{theirs.pk}"' not in html
    client.post("/trash/restore/", {"photo": [mine.pk, theirs.pk]})
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.trashed_at is None and theirs.trashed_at is not None


def test_pages_offer_members_only_what_they_may_do(client, world):
    client.force_login(world["member"])
    nav = client.get("/").content.decode()
    assert "/frames/" not in nav and "/people/" not in nav and "/admin/" not in nav
    album_page = client.get(f"/albums/{world['album'].pk}/").content.decode()
    assert "Album settings" not in album_page and "/share/" not in album_page and "Remove from album" not in album_page
    assert "alice's album" in album_page
    client.force_login(world["staff"])
    nav = client.get("/").content.decode()
    assert "/frames/" in nav and "/people/" in nav
    album_page = client.get(f"/albums/{world['album'].pk}/").content.decode()
    assert "Album settings" in album_page and f"/albums/{world['album'].pk}/share/" in album_page


def test_the_photo_view_offers_members_only_their_own_changes(client, world):
    client.force_login(world["member"])
    html = client.get(f"/photos/{world['photo'].pk}/").content.decode()
    assert "Rotate left" not in html and "Move to trash" not in html
    assert f"/albums/{world['album'].pk}/" in html and 'name="remove"' not in html  # listed, not removable
    own = make_photo_row(uploaded_by=world["member"])
    html = client.get(f"/photos/{own.pk}/").content.decode()
    assert "Rotate left" in html and "Move to trash" in html
