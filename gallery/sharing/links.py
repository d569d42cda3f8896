"""Share links: making and revoking them, finding a live one from its token, the password gate, what a link shows.

A link shows one album's ready photos that are not in the trash, and only through its own URLs (gallery/sharing/
views.py): the grid's thumbnails, the photo view's preview, and, when allowed, a full-resolution download without
metadata. A password is stored as Django hashes passwords; a browser that gave it holds a signed cookie, scoped to
the link's path, whose value changes with the password, and every file the link serves checks it.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from gallery import tokens
from gallery.models import Album, Photo, hash_token
from gallery.sharing.models import TOKEN_PURPOSE, ShareLink

MAX_DAYS = 3650
MIN_PASSWORD = 6
MAX_PASSWORD = 128
UNLOCK_SALT = "glowworm-share-unlock"
UNLOCK_DAYS = 30


class LinkRefused(ValueError):
    """A setting for a new link that cannot be used; the message says which and why."""


def create_link(
    *, album: Album, user, expires_in_days: int | None = None, allow_download: bool = False, password: str = ""
) -> ShareLink:
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise LinkRefused(f"expires_in_days: from 1 to {MAX_DAYS} days, or none for a link that does not expire.")
    if password and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise LinkRefused(f"password: from {MIN_PASSWORD} to {MAX_PASSWORD} characters, or none.")
    nonce = tokens.new_nonce()
    return ShareLink.objects.create(
        album=album,
        nonce=nonce,
        digest=hash_token(tokens.derived_token(TOKEN_PURPOSE, nonce)),
        password=make_password(password) if password else "",
        allow_download=allow_download,
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
        created_by=user,
    )


def revoke(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def restore(link: ShareLink) -> None:
    """Undo a revoke."""
    ShareLink.objects.filter(pk=link.pk).update(revoked_at=None)


def links_of(album: Album) -> QuerySet[ShareLink]:
    """An album's links that have not been revoked, expired ones included (the album page says so)."""
    return album.share_links.filter(revoked_at__isnull=True)


def live_link(token: str) -> ShareLink | None:
    """The link this token opens, or None: unknown, revoked, expired, or made under another SECRET_KEY."""
    if not token or len(token) > 100:
        return None
    link = ShareLink.objects.select_related("album").filter(digest=hash_token(token)).first()
    if link is None or not link.is_live() or not hmac.compare_digest(link.token, token):
        return None
    return link


def record_view(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=timezone.now())


# --- what a link shows -------------------------------------------------------------------------------------------


def photos(link: ShareLink) -> QuerySet[Photo]:
    return Photo.objects.ready().filter(album_memberships__album_id=link.album_id)


def photo(link: ShareLink, photo_id: int) -> Photo | None:
    return photos(link).filter(pk=photo_id).first()


# --- the password gate -------------------------------------------------------------------------------------------


def password_matches(link: ShareLink, password: str) -> bool:
    return bool(link.password) and check_password(password, link.password)


def _cookie_name(link: ShareLink) -> str:
    return f"glowworm_share_{link.pk}"


def _proof(link: ShareLink) -> str:
    # Derived from the stored hash: a new password (or none) ends every browser's unlock.
    return salted_hmac(UNLOCK_SALT, link.password).hexdigest()


def is_unlocked(request: HttpRequest, link: ShareLink) -> bool:
    if not link.password:
        return True
    value = request.get_signed_cookie(
        _cookie_name(link), default=None, salt=UNLOCK_SALT, max_age=timedelta(days=UNLOCK_DAYS)
    )
    return value is not None and hmac.compare_digest(value, _proof(link))


def unlock(response: HttpResponse, link: ShareLink) -> None:
    response.set_signed_cookie(
        _cookie_name(link),
        _proof(link),
        salt=UNLOCK_SALT,
        max_age=int(timedelta(days=UNLOCK_DAYS).total_seconds()),
        path=link.get_absolute_url(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
