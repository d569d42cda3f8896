"""Websocket pushes through the real Channels Redis layer: worker -> group -> consumer -> browser socket."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from gallery.models import Photo
from glowworm.asgi import application
from tests.conftest import DATA, render_chain
from tests.test_render import make_photo

ORIGIN = b"http://127.0.0.1:8000"


def session_headers(client, origin=ORIGIN):
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [(b"cookie", cookie.encode()), (b"origin", origin)]


async def receive_until(communicator, predicate, timeout=20.0):
    """Collect messages until one satisfies predicate; fail with what arrived if none does in time."""
    seen = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            message = await communicator.receive_from(timeout=max(0.1, deadline - loop.time()))
        except TimeoutError:
            break
        seen.append(message)
        if predicate(message):
            return message
    raise AssertionError(f"no matching message; got {seen!r}")


@pytest.mark.django_db(transaction=True)
def test_anonymous_websocket_is_refused():
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/gallery/", headers=[(b"origin", ORIGIN)])
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()  # let the refused consumer finish: no task left for loop shutdown

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_websocket_from_another_origin_is_refused(client_logged_in):
    async def scenario():
        headers = session_headers(client_logged_in, origin=b"http://evil.example")
        communicator = WebsocketCommunicator(application, "/ws/gallery/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()  # let the refused consumer finish: no task left for loop shutdown

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_render_pushes_thumbnail_fragment_to_logged_in_socket(client_logged_in, media_root):
    photo = make_photo(media_root, DATA / "photos" / "landscape_orientation_5.jpg")

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/gallery/", headers=session_headers(client_logged_in))
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(render_chain)(photo.pk)
        processing = await receive_until(communicator, lambda m: f'id="photo-{photo.pk}"' in m)
        assert 'data-status="processing"' in processing
        ready = await receive_until(communicator, lambda m: 'data-status="ready"' in m)
        assert f'id="photo-{photo.pk}"' in ready and 'class="tile-image"' in ready
        await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_reconnecting_page_catches_up_from_the_database(client_logged_in, media_root):
    """A push missed while the socket was away must not leave a placeholder stuck."""
    shown = make_photo(media_root, DATA / "formats" / "hopper.jpg")
    render_chain(shown.pk)  # rendered while no socket listened
    newer = make_photo(media_root, DATA / "formats" / "hopper_gray.jpg")  # uploaded in another tab meanwhile

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/gallery/", headers=session_headers(client_logged_in))
        assert (await communicator.connect())[0]
        await communicator.send_to(text_data=json.dumps({"sync": {"pending": [shown.pk], "after": shown.pk}}))
        message = await receive_until(communicator, lambda m: f'id="photo-{newer.pk}"' in m)
        assert f'id="photo-{shown.pk}"' in message and 'data-status="ready"' in message
        assert 'data-status="queued"' in message  # the newer one, not rendered yet
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_real_worker_publishes_to_a_browser_socket(client_logged_in, run_worker, redis_conn):
    """Upload through the API, a real `rqworker` process renders, the socket receives the ready tile."""
    with open(DATA / "photos" / "portrait_orientation_3.jpg", "rb") as handle:
        photo_id = client_logged_in.post("/api/images/", {"file": handle}).json()["id"]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/gallery/", headers=session_headers(client_logged_in))
        assert (await communicator.connect())[0]
        worker = asyncio.get_running_loop().run_in_executor(None, run_worker)
        message = await receive_until(
            communicator, lambda m: f'id="photo-{photo_id}"' in m and 'data-status="ready"' in m, timeout=60
        )
        assert "/media/variants/" in message
        await worker
        await communicator.disconnect()

    async_to_sync(scenario)()
    assert Photo.objects.get(pk=photo_id).status == Photo.Status.READY
