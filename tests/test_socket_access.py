"""Open websockets end with the access they were opened with, and a socket cannot make the server do unbounded
work: logout, deactivation and a new password close a user's sockets; a frame's socket stops the moment its
secret is no longer the frame's, even if the push that says so is lost; floods are cut off."""

import json
import secrets

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from gallery.frames import auth
from gallery.frames.models import Frame, Playlist
from gallery.models import hash_token
from glowworm.asgi import application
from processing.consumers import MessageBudget
from tests.test_live_updates import ORIGIN, receive_until, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(communicator, code: int, timeout: float = 10) -> bool:
    output = await communicator.receive_output(timeout=timeout)
    while output["type"] != "websocket.close":
        output = await communicator.receive_output(timeout=timeout)
    return output.get("code") == code


@pytest.mark.parametrize("path", ["/ws/gallery/", "/ws/frames/"])
@pytest.mark.parametrize("how", ["logout", "deactivate", "new password"])
def test_a_users_sockets_close_when_their_access_ends(redis_conn, user, path, how):
    client = Client()
    client.force_login(user)

    async def scenario():
        socket = WebsocketCommunicator(application, path, headers=session_headers(client))
        connected, _ = await socket.connect()
        assert connected
        if how == "logout":
            await database_sync_to_async(client.post)("/logout/")
        elif how == "deactivate":
            user.is_active = False
            await database_sync_to_async(user.save)()
        else:
            user.set_password("an entirely new pass phrase")
            await database_sync_to_async(user.save)()
        assert await closed_with(socket, 4401)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_an_ordinary_save_of_a_user_closes_nothing(redis_conn, user):
    client = Client()
    client.force_login(user)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/gallery/", headers=session_headers(client))
        assert (await socket.connect())[0]
        user.first_name = "Alice"
        await database_sync_to_async(user.save)()
        assert await socket.receive_nothing(timeout=1.5)
        await socket.send_to(text_data=json.dumps({"sync": {"pending": [], "after": 0}}))  # still answers
        await socket.disconnect()

    async_to_sync(scenario)()


def test_a_frame_socket_stops_when_its_secret_changes_even_without_a_push(redis_conn):
    secret = secrets.token_urlsafe(32)
    frame = Frame.objects.create(
        name="Wall", playlist=Playlist.objects.create(name="Hall"), secret_digest=hash_token(secret)
    )
    headers = [(b"cookie", f"{auth.FRAME_COOKIE}={secret}".encode()), (b"origin", ORIGIN)]

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/frame/", headers=headers)
        assert (await socket.connect())[0]
        await socket.send_to(text_data=json.dumps({"type": "hello"}))
        await receive_until(socket, lambda m: '"type": "state"' in m)
        # Paired again elsewhere: a new secret, and the revoke push never arrives (no group_send here).
        await database_sync_to_async(Frame.objects.filter(pk=frame.pk).update)(secret_digest=hash_token("new"))
        await socket.send_to(text_data=json.dumps({"type": "heartbeat", "photo": None}))
        assert json.loads(await receive_until(socket, lambda m: "revoked" in m)) == {"type": "revoked"}
        assert await closed_with(socket, 4403)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_a_flooding_socket_is_ignored_then_disconnected(redis_conn, user):
    client = Client()
    client.force_login(user)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/frames/", headers=session_headers(client))
        assert (await socket.connect())[0]
        for _ in range(300):
            await socket.send_to(text_data="{}")
        assert await closed_with(socket, 4429)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_the_message_budget_refills_at_its_rate(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("processing.consumers.time.monotonic", lambda: now[0])
    budget = MessageBudget(burst=3, rate=1.0, close_after=5)
    assert [budget.allow() for _ in range(4)] == [True, True, True, False]
    now[0] += 2.0
    assert [budget.allow() for _ in range(3)] == [True, True, False]
    assert not budget.exhausted
    for _ in range(3):
        budget.allow()
    assert budget.exhausted
