"""How a frame proves who it is: pairing codes, frame secrets and the cookie that carries them.

A frame is not a user. An unpaired browser gets a short code to show (for a person to type) and a random claim
token in a cookie (the credential that lets only that browser collect the secret). After an admin confirms the
code, the browser's next request swaps the claim token for the frame secret: 256 random bits, stored as SHA-256,
sent back in an HttpOnly cookie valid for a year and renewed while the frame is in use. Revoking clears the
digest, so the cookie stops working at once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponseForbidden
from django.utils import timezone

from gallery.models import Frame, PairingCode, hash_token

FRAME_COOKIE = "glowworm_frame"
CLAIM_COOKIE = "glowworm_pairing"
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: read off a screen across a room and typed without mistakes.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6  # 25**6 = 244 million codes; a code lives ten minutes and is useless without the claim cookie
PAIRING_TTL = timedelta(minutes=10)
SECRET_MAX_AGE = timedelta(days=365)
# The secret cookie is re-sent (with a fresh max-age) when it is older than this: a frame in use never expires.
RENEW_AFTER = timedelta(days=1)


class PairingError(Exception):
    pass


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class TooManyWaiting(Exception):
    """More unpaired browsers wait than any household has frames: someone is filling the table."""


MAX_OPEN_CODES = 200


def start_pairing() -> tuple[PairingCode, str]:
    """A fresh code for an unpaired browser; returns it with the plain claim token for the cookie."""
    claim = secrets.token_urlsafe(32)
    now = timezone.now()
    # Expired codes are of no use to anyone; drop them so the unique index leaves room.
    PairingCode.objects.filter(expires_at__lt=now - PAIRING_TTL).delete()
    if PairingCode.objects.filter(expires_at__gt=now, confirmed_at__isnull=True).count() >= MAX_OPEN_CODES:
        raise TooManyWaiting()
    for _ in range(10):
        code = new_code()
        if not PairingCode.objects.filter(code=code).exists():
            break
    pairing = PairingCode.objects.create(
        code=code, claim_digest=hash_token(claim), created_at=now, expires_at=now + PAIRING_TTL
    )
    return pairing, claim


def pairing_for_claim(claim: str | None) -> PairingCode | None:
    if not claim:
        return None
    return PairingCode.objects.select_related("frame").filter(claim_digest=hash_token(claim)).first()


def open_code(code: str) -> PairingCode | None:
    """A code an admin may still confirm: known, unexpired, not confirmed yet."""
    return PairingCode.objects.filter(
        code=normalise_code(code), expires_at__gt=timezone.now(), confirmed_at__isnull=True
    ).first()


@transaction.atomic
def confirm_pairing(*, code: str, frame: Frame) -> PairingCode:
    """An admin vouches for the browser showing `code`: it becomes `frame` on its next request.

    Single use: the conditional UPDATE lets exactly one confirmation through.
    """
    now = timezone.now()
    claimed = PairingCode.objects.filter(
        code=normalise_code(code), expires_at__gt=now, confirmed_at__isnull=True
    ).update(frame=frame, confirmed_at=now)
    if not claimed:
        raise PairingError("That code is unknown, expired or already used. Codes are valid for ten minutes.")
    return PairingCode.objects.get(code=normalise_code(code))


def claim_secret(pairing: PairingCode) -> tuple[Frame, str] | None:
    """The browser that asked for a confirmed code collects its frame's new secret, once.

    A new secret replaces the frame's old one (pairing a frame again rotates its secret)."""
    now = timezone.now()
    if pairing.frame_id is None or pairing.confirmed_at is None or now >= pairing.expires_at + PAIRING_TTL:
        return None
    with transaction.atomic():
        if not PairingCode.objects.filter(pk=pairing.pk, claimed_at__isnull=True).update(claimed_at=now):
            return None
        secret = secrets.token_urlsafe(32)
        Frame.objects.filter(pk=pairing.frame_id).update(
            secret_digest=hash_token(secret), secret_issued_at=now, revoked_at=None
        )
    return Frame.objects.get(pk=pairing.frame_id), secret


def frame_for_secret(secret: str | None) -> Frame | None:
    if not secret:
        return None
    return Frame.objects.filter(secret_digest=hash_token(secret), revoked_at__isnull=True).first()


def revoke(frame: Frame) -> None:
    Frame.objects.filter(pk=frame.pk).update(secret_digest=None, revoked_at=timezone.now())
    frame.secret_digest, frame.revoked_at = None, timezone.now()


def set_secret_cookie(response, secret: str) -> None:
    response.set_cookie(
        FRAME_COOKIE,
        secret,
        max_age=int(SECRET_MAX_AGE.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def set_claim_cookie(response, claim: str) -> None:
    response.set_cookie(
        CLAIM_COOKIE,
        claim,
        max_age=int(2 * PAIRING_TTL.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def renew_if_due(request, response) -> None:
    """Send the secret cookie again with a fresh year when the browser's copy is getting old."""
    frame = getattr(request, "frame", None)
    secret = request.COOKIES.get(FRAME_COOKIE)
    if frame is None or not secret:
        return
    renewed = request.COOKIES.get(FRAME_COOKIE + "_renewed", "")
    today = timezone.now().date().isoformat()
    if renewed != today:
        set_secret_cookie(response, secret)
        response.set_cookie(
            FRAME_COOKIE + "_renewed",
            today,
            max_age=int(RENEW_AFTER.total_seconds()),
            httponly=True,
            samesite="Strict",
            secure=settings.SESSION_COOKIE_SECURE,
        )


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
