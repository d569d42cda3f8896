import json
import time

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


class MessageBudget:
    """A token bucket per socket: `burst` messages at once, then `rate` a second. A client that sends more is
    ignored, and one that keeps flooding is disconnected, so a socket cannot make the server do unbounded work."""

    def __init__(self, burst: int = 20, rate: float = 1.0, close_after: int = 200):
        self.tokens, self.burst, self.rate, self.close_after = float(burst), burst, rate, close_after
        self.stamp = time.monotonic()
        self.refused = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.refused >= self.close_after


class UserSocket(AsyncWebsocketConsumer):
    """A socket of a logged-in user (session or Bearer token): it joins the user's own group, so logging out,
    deactivation and a password change close it (processing.events.end_sessions), and its messages are budgeted."""

    groups_to_join: tuple[str, ...] = ()
    staff_only = False
    user_group = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if self.staff_only and not user.is_staff:
            await self.close(code=4403)
            return
        self.budget = MessageBudget()
        self.user_group = events.user_group(user.pk)
        for group in (self.user_group, *self.groups_to_join):
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.user_group is None:
            return
        for group in (self.user_group, *self.groups_to_join):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def within_budget(self) -> bool:
        if self.budget.allow():
            return True
        if self.budget.exhausted:
            await self.close(code=4429)
        return False

    async def session_end(self, event):
        await self.close(code=4401)


class GalleryConsumer(UserSocket):
    """Forwards gallery pushes to logged-in users; answers a page's catch-up request from the database."""

    groups_to_join = (events.GALLERY_GROUP,)

    async def receive(self, text_data=None, bytes_data=None):
        if not await self.within_budget():
            return
        request = _catch_up_request(text_data)
        if request is None:
            return
        html = await database_sync_to_async(events.catch_up)(*request)
        if html:
            await self.send(text_data=html)

    async def gallery_push(self, event):
        await self.send(text_data=event["html"])
