"""Claiming a fresh instance: until an account exists, only a person holding the setup token may create one.

`make run` (manage.py serve), compose's web service and `manage.py setup_url` print the setup URL,
`<base>/setup/?token=<token>`, where <base> is GLOWWORM_PUBLIC_URL or the address the server listens on. The token
is HMAC(SECRET_KEY, nonce): any process with the key can print it again, and the database holds only the nonce and
the token's digest. Creating the first account deletes the row, so the token dies with its first use.
"""

from __future__ import annotations

import hmac
import os
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from gallery import tokens
from gallery.models import SetupToken, hash_token


class SetupRefused(Exception):
    pass


def _token_for(nonce: str) -> str:
    return tokens.derived_token("glowworm-setup", nonce)


def account_exists() -> bool:
    return get_user_model().objects.exists()


@transaction.atomic
def setup_token(*, fresh: bool = False) -> str | None:
    """The current setup token (made if there is none), or a fresh one that replaces it; None once an account
    exists."""
    if account_exists():
        SetupToken.objects.all().delete()
        return None
    row = SetupToken.objects.select_for_update().order_by("pk").first()
    if row is None or fresh:
        SetupToken.objects.all().delete()
        nonce = tokens.new_nonce()
        row = SetupToken.objects.create(nonce=nonce, digest=hash_token(_token_for(nonce)))
    token = _token_for(row.nonce)
    if not hmac.compare_digest(hash_token(token), row.digest):
        # SECRET_KEY changed since the token was made: start over with this key.
        return setup_token(fresh=True)
    return token


def public_base(host: str | None = None, port: int | str | None = None) -> str:
    if settings.GLOWWORM_PUBLIC_URL:
        return settings.GLOWWORM_PUBLIC_URL.rstrip("/")
    host = host or os.environ.get("HOST", "127.0.0.1")
    port = port or os.environ.get("PORT", "8000")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def setup_url(token: str, base: str) -> str:
    return f"{base}/setup/?{urlencode({'token': token})}"


def token_is_valid(token: str | None) -> bool:
    if not token:
        return False
    digest = hash_token(token)
    return any(hmac.compare_digest(digest, row) for row in SetupToken.objects.values_list("digest", flat=True))


def create_first_account(*, form, token: str):
    """Save the form's user as the first account, a superuser; the token dies. Two requests racing with the same
    token make one account: the token row is locked, and the second finds it gone."""
    with transaction.atomic():
        rows = list(SetupToken.objects.select_for_update().filter(digest=hash_token(token)))
        if not rows or account_exists():
            raise SetupRefused("This setup link has been used already.")
        user = form.save(commit=False)
        user.is_staff = True
        user.is_superuser = True
        user.save()
        SetupToken.objects.all().delete()
    return user
