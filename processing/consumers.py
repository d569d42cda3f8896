import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from processing import events

# Photo ids are positive 64-bit integers; a larger number names no photo, and SQLite cannot even bind it.
MAX_ID = 2**63 - 1


def _catch_up_request(text: str | None) -> tuple[list[int], int] | None:
    """The page's {"sync": {"pending": [ids], "after": id}} as (pending, after); None for any other message, which
    is ignored. JSON's 1e400 is float infinity (OverflowError) and [[[[… nests past the recursion limit."""
    try:
        sync = json.loads(text or "{}")["sync"]
        pending = [int(pk) for pk in sync.get("pending", [])]
        after = int(sync.get("after", 0))
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError):
        return None
    return [pk for pk in pending if 0 < pk <= MAX_ID], min(max(after, 0), MAX_ID)


class GalleryConsumer(AsyncWebsocketConsumer):
    """Forwards gallery pushes to logged-in users; answers a page's catch-up request from the database."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(events.GALLERY_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(events.GALLERY_GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        request = _catch_up_request(text_data)
        if request is None:
            return
        html = await database_sync_to_async(events.catch_up)(*request)
        if html:
            await self.send(text_data=html)

    async def gallery_push(self, event):
        await self.send(text_data=event["html"])
