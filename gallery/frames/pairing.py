"""Pairing a wall display: the short code an unpaired browser shows, an admin's confirmation, and the browser
collecting its frame secret (gallery.frames.auth) with the claim token only it holds.

The code alone is not a credential: the browser that asked for it also holds a random claim token (a cookie,
stored hashed), and only that browser receives the frame's secret after an admin confirms.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from gallery.frames import auth, events, screens, status
from gallery.frames.models import Frame, PairingCode, Playlist
from gallery.models import hash_token
from gallery.proxies import client_network

logger = logging.getLogger(__name__)

CLAIM_COOKIE = "glowworm_pairing"
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: read off a screen across a room and typed without mistakes.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6  # 25**6 = 244 million codes; a code lives ten minutes and is useless without the claim cookie
PAIRING_TTL = timedelta(minutes=10)
MAX_OPEN_CODES = 200
# Codes one client network may ask for within PAIRING_TTL: a household's frames, booting together behind one
# router, and their reloads; never the whole pool.
MAX_CODES_PER_ADDRESS = 10


class PairingError(Exception):
    pass


class TooManyWaiting(Exception):
    """More unpaired browsers wait than any household has frames: someone is filling the table."""


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _count_code_for(address: str) -> int:
    """Codes this client network asked for within PAIRING_TTL (counted in the shared cache, Redis)."""
    key = f"glowworm:pairing-codes:{client_network(address)}"
    timeout = int(PAIRING_TTL.total_seconds())
    try:
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=timeout)
        return 1
    except Exception:  # the cache is down: the table-wide cap still holds
        logger.warning("Pairing codes are not limited per address: the cache is unreachable", exc_info=True)
        return 0


def start_pairing(address: str = "", user_agent: str = "") -> tuple[PairingCode, str]:
    """A fresh code for an unpaired browser at `address`; returns it with the plain claim token for the cookie."""
    if _count_code_for(address) > MAX_CODES_PER_ADDRESS:
        raise TooManyWaiting()
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
        code=code,
        claim_digest=hash_token(claim),
        created_at=now,
        expires_at=now + PAIRING_TTL,
        requested_from=address[:64],
        user_agent=user_agent[:300],
    )
    return pairing, claim


def set_claim_cookie(response, claim: str) -> None:
    # The code lives PAIRING_TTL, and its browser may collect the secret for as long again (claim_secret).
    auth.set_cookie(response, CLAIM_COOKIE, claim, 2 * PAIRING_TTL)


def pairing_for_claim(claim: str | None) -> PairingCode | None:
    if not claim:
        return None
    return PairingCode.objects.select_related("frame").filter(claim_digest=hash_token(claim)).first()


def waiting_pairing_for_claim(claim: str | None) -> PairingCode | None:
    """The code this browser shows, while its secret has not been collected yet."""
    pairing = pairing_for_claim(claim)
    if pairing is None or pairing.claimed_at is not None:
        return None
    return pairing


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


@transaction.atomic
def pair_frame(*, code: str, name: str, playlist: Playlist | None, replace: Frame | None = None) -> Frame:
    """Confirm a code: a new frame, or an existing one paired again. Paired again, a frame keeps everything it
    had (name, playlist, schedules, time zone, screen): only its secret changes, and the old one stops working."""
    if replace is not None:
        frame = replace
        auth.revoke(frame)
    else:
        frame = Frame.objects.create(name=name, playlist=playlist)
    pairing_code = confirm_pairing(code=code, frame=frame)
    transaction.on_commit(lambda: events.paired(pairing_code.pk))
    if replace is not None:
        transaction.on_commit(lambda: events.revoked(frame.pk))
    return frame


def revoke_frame(*, frame: Frame) -> None:
    auth.revoke(frame)
    events.revoked(frame.pk)
    status.push_status(frame.pk)


def delete_frame(*, frame: Frame) -> None:
    revoke_frame(frame=frame)
    frame.delete()
    screens.drop_unused_display_sizes()
