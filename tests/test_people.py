"""Accounts come from invites that staff make; the People page invites, deactivates and changes roles."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from gallery.models import ApiToken
from gallery.people import invites
from gallery.people.models import Invite
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough pass phrase"


def account_form(username="carol", password=PASSWORD):
    return {"username": username, "email": "", "password1": password, "password2": password}


def test_staff_invite_and_the_link_makes_one_account(client_logged_in, user):
    made = client_logged_in.post("/people/", {"note": "Carol", "days": "7"})
    invite = Invite.objects.get()
    assert made.status_code == 302 and made["Location"].endswith(f"?new={invite.pk}")
    page = client_logged_in.get(made["Location"]).content.decode()
    url = f"http://testserver/invite/{invite.token}/"
    assert url in page and "For Carol" in page
    assert invite.token not in (invite.nonce, invite.digest)

    newcomer = Client()
    form = newcomer.get(f"/invite/{invite.token}/")
    assert form.status_code == 200 and "Join this photo library" in form.content.decode()
    joined = newcomer.post(f"/invite/{invite.token}/", account_form())
    assert joined.status_code == 302 and joined["Location"] == "/"
    carol = get_user_model().objects.get(username="carol")
    assert not carol.is_staff and carol.is_active
    assert newcomer.get("/").status_code == 200  # logged in
    invite.refresh_from_db()
    assert invite.used_by == carol and invite.used_at is not None
    # Once only.
    assert Client().get(f"/invite/{invite.token}/").status_code == 404
    assert Client().post(f"/invite/{invite.token}/", account_form("dave")).status_code == 404
    assert not get_user_model().objects.filter(username="dave").exists()
    assert f"/invite/{invite.token}/" not in client_logged_in.get("/people/").content.decode()


def test_a_staff_invite_makes_a_staff_account(user):
    invite = invites.create_invite(by=user, make_staff=True)
    Client().post(f"/invite/{invite.token}/", account_form("erin"))
    erin = get_user_model().objects.get(username="erin")
    assert erin.is_staff and erin.is_superuser


def test_invites_refuse_weak_passwords_and_taken_names_and_stay_unused(user):
    invite = invites.create_invite(by=user)
    weak = Client().post(f"/invite/{invite.token}/", account_form(password="short"))
    assert weak.status_code == 400 and "at least 12 characters" in weak.content.decode()
    taken = Client().post(f"/invite/{invite.token}/", account_form(username=user.username))
    assert taken.status_code == 400 and "already exists" in taken.content.decode()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_expired_revoked_and_wrong_invites_answer_404(client_logged_in, user):
    expired = invites.create_invite(by=user)
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = invites.create_invite(by=user)
    assert client_logged_in.post(f"/people/invites/{revoked.pk}/revoke/").status_code == 302
    for token in (expired.token, revoked.token, revoked.token[:-1], revoked.digest, "x" * 300):
        assert Client().get(f"/invite/{token}/").status_code == 404
        assert Client().post(f"/invite/{token}/", account_form()).status_code == 404
    assert not get_user_model().objects.filter(username="carol").exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_with_one_invite_make_one_account(user):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs row locks (MariaDB leg)")
    invite = invites.create_invite(by=user)
    results = []

    def join(name):
        results.append(Client().post(f"/invite/{invite.token}/", account_form(name)).status_code)

    threads = [threading.Thread(target=join, args=(f"racer{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [302, 404]
    assert get_user_model().objects.filter(username__startswith="racer").count() == 1


def test_there_is_no_open_sign_up(user):
    assert Client().get("/invite/").status_code == 404
    assert Client().get("/signup/").status_code == 404
    assert Client().get("/people/").status_code == 302  # to the login page


def test_deactivating_ends_access_and_keeps_the_photos(client_logged_in, member):
    other = Client()
    other.force_login(member)
    _, token = ApiToken.issue(member)
    assert other.get("/").status_code == 200
    response = client_logged_in.post(f"/people/{member.pk}/", {"action": "deactivate"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert other.get("/").status_code == 302
    assert Client().get("/api/images/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    client_logged_in.post(f"/people/{member.pk}/", {"action": "activate"})
    member.refresh_from_db()
    assert member.is_active


def test_roles_change_but_never_lock_everyone_out(client_logged_in, user, member):
    client_logged_in.post(f"/people/{member.pk}/", {"action": "staff"})
    member.refresh_from_db()
    assert member.is_staff and member.is_superuser  # the admin too
    client_logged_in.post(f"/people/{member.pk}/", {"action": "member"})
    member.refresh_from_db()
    assert not member.is_staff and not member.is_superuser

    # Oneself: neither deactivated nor demoted.
    for action in ("deactivate", "member"):
        response = client_logged_in.post(f"/people/{user.pk}/", {"action": action}, follow=True)
        assert "cannot" in response.content.decode()
    user.refresh_from_db()
    assert user.is_staff and user.is_active
    with pytest.raises(invites.ChangeRefused, match="last active staff"):
        invites.set_active(actor=member, user=user, active=False)
    assert client_logged_in.post(f"/people/{member.pk}/", {"action": "promote"}).status_code == 302
    member.refresh_from_db()
    assert not member.is_staff


def test_the_people_page_is_for_staff(client, member):
    client.force_login(member)
    assert client.get("/people/").status_code == 403
    assert client.post("/people/", {"note": "x", "days": "7"}).status_code == 403
    assert client.post(f"/people/{member.pk}/", {"action": "staff"}).status_code == 403
    member.refresh_from_db()
    assert not member.is_staff and not Invite.objects.exists()


def test_the_people_page_lists_accounts_with_their_photo_counts(client_logged_in, user, member):
    make_photo_row(uploaded_by=member)
    make_photo_row(uploaded_by=member)
    html = client_logged_in.get("/people/").content.decode()
    row = re.search(
        r"<tr[^>]*>\s*<th scope=\"row\">(?:(?!</tr>).)*?\"person-name\"><span>bob.*?</tr>", html, re.S
    ).group(0)
    assert "Member" in row and '"person-count">2</td>' in row and "never" in row


def test_last_log_in_reads_like_a_person_would_say_it(client_logged_in, user, member):
    get_user_model().objects.filter(pk=member.pk).update(last_login=timezone.now() - timedelta(hours=3, minutes=5))
    html = client_logged_in.get("/people/").content.decode()
    assert "just now" in html  # the staff account that just logged in, never "0 minutes ago"
    assert "3\xa0hours ago" in html and "minutes ago" not in html  # Django keeps number and unit together
