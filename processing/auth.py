"""Websocket authentication for API clients (`manage.py smoke`, scripts): `Authorization: Bearer <token>`.

Browsers use their session cookie (channels.auth.AuthMiddlewareStack, which runs first).
"""

from channels.db import database_sync_to_async


@database_sync_to_async
def _user_for_token(token: str):
    from gallery.models import ApiToken

    return ApiToken.authenticate(token)


class BearerTokenMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            headers = dict(scope.get("headers") or [])
            scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                found = await _user_for_token(token.strip())
                if found is not None:
                    scope = dict(scope, user=found)
        return await self.app(scope, receive, send)
