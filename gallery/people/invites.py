"""Invites and the accounts they make, and what staff may change about an account.

Accounts come only from invites (or the first account's setup link, `createsuperuser`, DJANGO_SUPERUSER_*). An
invite makes exactly one account: two people racing with the same link get one account between them.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gallery import tokens
from gallery.models import hash_token
from gallery.people.models import TOKEN_PURPOSE, Invite

MAX_DAYS = 90


class InviteRefused(Exception):
    pass


class ChangeRefused(Exception):
    """A change to an account that would lock people out; the message says why."""


def create_invite(*, by, note: str = "", make_staff: bool = False, days: int = 7) -> Invite:
    if not 1 <= days <= MAX_DAYS:
        raise InviteRefused(f"An invite lasts from 1 to {MAX_DAYS} days.")
    nonce = tokens.new_nonce()
    return Invite.objects.create(
        nonce=nonce,
        digest=hash_token(tokens.derived_token(TOKEN_PURPOSE, nonce)),
        note=note.strip(),
        make_staff=make_staff,
        created_by=by,
        expires_at=timezone.now() + timedelta(days=days),
    )


def pending_invite(token: str) -> Invite | None:
    """The invite this token names, while it can still make an account."""
    if not token or len(token) > 100:
        return None
    invite = Invite.objects.filter(digest=hash_token(token)).first()
    if invite is None or not invite.is_pending() or not hmac.compare_digest(invite.token, token):
        return None
    return invite


def accept(*, token: str, form):
    """Save the form's user for this invite; the invite is used up. InviteRefused if it was used meanwhile."""
    with transaction.atomic():
        invite = Invite.objects.select_for_update().filter(digest=hash_token(token)).first()
        if invite is None or not invite.is_pending():
            raise InviteRefused("This invite has been used already, or has expired.")
        user = form.save(commit=False)
        user.is_staff = user.is_superuser = invite.make_staff
        user.save()
        Invite.objects.filter(pk=invite.pk).update(used_at=timezone.now(), used_by=user)
    return user


def revoke(invite: Invite) -> None:
    Invite.objects.filter(pk=invite.pk, used_at__isnull=True).update(revoked_at=timezone.now())


def _other_active_staff(user) -> bool:
    return get_user_model().objects.filter(is_staff=True, is_active=True).exclude(pk=user.pk).exists()


def set_active(*, actor, user, active: bool) -> None:
    """Deactivating ends the account's sessions, sockets and API tokens at once; its photos and albums stay."""
    if not active:
        if user.pk == actor.pk:
            raise ChangeRefused("You cannot deactivate your own account.")
        if user.is_staff and not _other_active_staff(user):
            raise ChangeRefused("This is the last active staff account: make someone else staff first.")
    user.is_active = active
    user.save(update_fields=["is_active"])


def set_staff(*, actor, user, staff: bool) -> None:
    """Staff do everything, the Django admin included: staff accounts are superusers, members are neither."""
    if user.pk == actor.pk:
        raise ChangeRefused("You cannot change your own role; ask another staff member.")
    if not staff and not _other_active_staff(user):
        raise ChangeRefused("This is the last active staff account.")
    user.is_staff = user.is_superuser = staff
    user.save(update_fields=["is_staff", "is_superuser"])
