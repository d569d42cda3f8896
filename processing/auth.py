"""Websocket authentication for API clients (`manage.py smoke`, scripts): `Authorization: Bearer <token>`.

Browsers use their session cookie (channels.auth.AuthMiddlewareStack, which runs first).
"""

from channels.db import database_sync_to_async


@database_sync_to_async
def _user_for_header(header: str):
    from gallery.models import ApiToken

    return ApiToken.from_authorization(header)


class BearerTokenMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            if header:
                found = await _user_for_header(header)
                if found is not None:
                    scope = dict(scope, user=found)
        return await self.app(scope, receive, send)
