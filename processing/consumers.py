import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from processing import events


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
        try:
            message = json.loads(text_data or "{}")
            sync = message["sync"]
            pending = [int(pk) for pk in sync.get("pending", [])]
            after = int(sync.get("after", 0))
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        html = await database_sync_to_async(events.catch_up)(pending, after)
        if html:
            await self.send(text_data=html)

    async def gallery_push(self, event):
        await self.send(text_data=event["html"])
