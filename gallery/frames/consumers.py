"""Websockets of the frames (/ws/frame/) and of the gallery's frames page (/ws/frames/)."""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from gallery.frames import auth, events, pairing, screens, state, status
from gallery.frames.models import Frame
from gallery.models import hash_token
from processing.consumers import MessageBudget, UserSocket

# Seconds to wait after a hint before reading the state, so a burst of hints costs one read.
SYNC_SETTLE = 0.15


def _paired_frame(frame_id: int, secret_digest: str) -> Frame | None:
    """The frame, if this socket's secret is still its secret: a revoked or re-paired frame's old socket stops,
    even when the push that says so was lost."""
    return Frame.objects.filter(pk=frame_id, secret_digest=secret_digest, revoked_at__isnull=True).first()


def _state(frame_id: int, secret_digest: str) -> dict | None:
    frame = _paired_frame(frame_id, secret_digest)
    return state.read_state(frame).message if frame else None


def _record_screen(frame_id: int, secret_digest: str, width: int, height: int) -> bool:
    frame = _paired_frame(frame_id, secret_digest)
    if frame is None:
        return False
    screens.record_screen(frame, width=width, height=height)
    status.push_status(frame_id)
    screens.request_display_renders([frame_id])
    return True


def _beat(frame_id: int, secret_digest: str | None, showing, connected: int = 0) -> bool:
    """Record a heartbeat; False when the socket's secret is no longer the frame's (a disconnect still counts)."""
    if secret_digest is not None and _paired_frame(frame_id, secret_digest) is None:
        return False
    if status.record_heartbeat(frame_id, showing=showing, connected=connected):
        status.push_status(frame_id)
    return True


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400 is float infinity
        return None


def _photo_id(value) -> int | None:
    # Photo ids are positive 64-bit integers: any other number names no photo, and SQLite cannot even bind it.
    number = _int_or_none(value)
    return number if number is not None and 0 < number < 2**63 else None


class FrameConsumer(AsyncWebsocketConsumer):
    """A paired frame joins its own group; an unpaired browser showing a code waits in that code's group.

    Frames authenticate with their secret cookie, never a user session. Messages from the frame: screen (its size
    in physical pixels, sent on connect and on resize; answered with the state), hello (answered with the state),
    heartbeat and showing (what is on screen)."""

    frame_id = None
    secret_digest = None
    pairing_group = None
    sync_task = None
    sync_again = False

    async def connect(self):
        cookies = self.scope.get("cookies") or {}
        self.budget = MessageBudget()
        frame = await database_sync_to_async(auth.frame_for_secret)(cookies.get(auth.FRAME_COOKIE))
        if frame is not None:
            self.frame_id, self.secret_digest = frame.pk, hash_token(cookies[auth.FRAME_COOKIE])
            await self.channel_layer.group_add(events.frame_group(frame.pk), self.channel_name)
            await self.accept()
            await database_sync_to_async(_beat)(frame.pk, self.secret_digest, None, 1)
            return
        waiting = await database_sync_to_async(pairing.waiting_pairing_for_claim)(cookies.get(pairing.CLAIM_COOKIE))
        if waiting is not None:
            self.pairing_group = events.pairing_group(waiting.pk)
            await self.channel_layer.group_add(self.pairing_group, self.channel_name)
            await self.accept()
            if waiting.confirmed_at is not None:  # confirmed while this browser was reconnecting
                await self.send(text_data=json.dumps({"type": "paired"}))
            return
        await self.close(code=4403)

    async def disconnect(self, code):
        if self.sync_task is not None:
            self.sync_task.cancel()
        if self.frame_id is not None:
            await self.channel_layer.group_discard(events.frame_group(self.frame_id), self.channel_name)
            await database_sync_to_async(_beat)(self.frame_id, None, None, -1)
        if self.pairing_group is not None:
            await self.channel_layer.group_discard(self.pairing_group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if self.frame_id is None:
            return
        if not self.budget.allow():
            if self.budget.exhausted:
                await self.close(code=4429)
            return
        try:
            message = json.loads(text_data or "{}")
            kind = message.get("type")
        except (ValueError, AttributeError, RecursionError):  # RecursionError: [[[[… nested too deep to parse
            return
        if kind == "screen":
            width, height = _int_or_none(message.get("width")), _int_or_none(message.get("height"))
            if width and height and width > 0 and height > 0:
                await database_sync_to_async(_record_screen)(self.frame_id, self.secret_digest, width, height)
            await self._send_state(await database_sync_to_async(_state)(self.frame_id, self.secret_digest))
        elif kind == "hello":
            await self._send_state(await database_sync_to_async(_state)(self.frame_id, self.secret_digest))
            await self._beat(_photo_id(message.get("showing")))
        elif kind in ("heartbeat", "showing"):
            await self._beat(_photo_id(message.get("photo")))

    async def _beat(self, showing) -> None:
        if not await database_sync_to_async(_beat)(self.frame_id, self.secret_digest, showing):
            await self._send_state(None)

    async def _send_state(self, message):
        if message is None:  # revoked meanwhile
            await self.send(text_data=json.dumps({"type": "revoked"}))
            await self.close(code=4403)
            return
        await self.send(text_data=json.dumps(message))

    async def frame_sync(self, event):
        # Handlers run one at a time, so the read happens in a task: hints that arrive meanwhile (a render or a
        # bulk change sends them in bursts) only ask for one more read.
        if self.sync_task is not None and not self.sync_task.done():
            self.sync_again = True
            return
        self.sync_task = asyncio.ensure_future(self._sync_soon())

    async def _sync_soon(self):
        while True:
            await asyncio.sleep(SYNC_SETTLE)
            self.sync_again = False
            await self._send_state(await database_sync_to_async(_state)(self.frame_id, self.secret_digest))
            if not self.sync_again:
                return

    async def frame_command(self, event):
        await self.send(text_data=json.dumps({"type": "command", "command": event["command"]}))

    async def frame_revoked(self, event):
        await self.send(text_data=json.dumps({"type": "revoked"}))
        await self.close(code=4403)

    async def frame_paired(self, event):
        await self.send(text_data=json.dumps({"type": "paired"}))


class FramesAdminConsumer(UserSocket):
    """The gallery's frames page: live status fragments, for staff only."""

    groups_to_join = (events.FRAMES_ADMIN_GROUP,)
    staff_only = True

    async def receive(self, text_data=None, bytes_data=None):
        if not await self.within_budget():
            return
        # Any message (the page sends one on every (re)connect) asks for the current status of every frame.
        html = await database_sync_to_async(status.status_html)()
        if html:
            await self.send(text_data=html)

    async def frames_status(self, event):
        await self.send(text_data=event["html"])
