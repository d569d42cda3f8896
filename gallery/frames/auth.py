"""How a frame proves who it is: the frame secret and the cookies that carry it.

A frame is not a user. After an admin confirms the code an unpaired browser shows (gallery.frames.pairing), that
browser's next request swaps its claim token for the frame secret: 256 random bits, stored as SHA-256, sent back
in an HttpOnly cookie valid for a year and renewed while the frame is in use. Revoking clears the digest, so the
cookie stops working at once.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseForbidden
from django.utils import timezone

from gallery.frames.models import Frame
from gallery.models import hash_token

FRAME_COOKIE = "glowworm_frame"
SECRET_MAX_AGE = timedelta(days=365)
# The secret cookie is re-sent (with a fresh max-age) when it is older than this: a frame in use never expires.
RENEW_AFTER = timedelta(days=1)


def frame_for_secret(secret: str | None) -> Frame | None:
    if not secret:
        return None
    return Frame.objects.filter(secret_digest=hash_token(secret), revoked_at__isnull=True).first()


def revoke(frame: Frame) -> None:
    """The frame's secret stops working at once."""
    now = timezone.now()
    Frame.objects.filter(pk=frame.pk).update(secret_digest=None, revoked_at=now)
    frame.secret_digest, frame.revoked_at = None, now


def set_cookie(response, name: str, value: str, max_age: timedelta) -> None:
    """A frame cookie: HttpOnly, SameSite=Strict, Secure when the site is served over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=int(max_age.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def set_secret_cookie(response, secret: str) -> None:
    set_cookie(response, FRAME_COOKIE, secret, SECRET_MAX_AGE)


def renew_if_due(request, response) -> None:
    """Send the secret cookie again with a fresh year when the browser's copy is getting old."""
    frame = getattr(request, "frame", None)
    secret = request.COOKIES.get(FRAME_COOKIE)
    if frame is None or not secret:
        return
    today = timezone.now().date().isoformat()
    if request.COOKIES.get(FRAME_COOKIE + "_renewed", "") != today:
        set_secret_cookie(response, secret)
        set_cookie(response, FRAME_COOKIE + "_renewed", today, RENEW_AFTER)


def frame_required(view):
    """For the frame's own endpoints: no user login, a valid frame secret instead (403 without one)."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        frame = frame_for_secret(request.COOKIES.get(FRAME_COOKIE))
        if frame is None:
            return HttpResponseForbidden("This browser is not a paired frame.", content_type="text/plain")
        request.frame = frame
        response = view(request, *args, **kwargs)
        renew_if_due(request, response)
        return response

    return wrapper
