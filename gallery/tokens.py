"""Tokens the server can print again without storing them: HMAC(SECRET_KEY, purpose and a random nonce).

The database holds the nonce and the token's SHA-256 (`gallery.models.hash_token`), so a copy of the database alone
reveals no token, while the app can show a setup link, an invite or a share link again for copying. A new
SECRET_KEY ends every such token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def derived_token(purpose: str, nonce: str) -> str:
    """256 bits, URL-safe, for this purpose and nonce under the current SECRET_KEY."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
