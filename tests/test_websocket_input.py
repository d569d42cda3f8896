"""Malformed messages on every websocket: the gallery page's (/ws/gallery/), a paired frame's and a browser's
waiting with a pairing code (/ws/frame/), and the frames page's (/ws/frames/).

Each bad message goes on a socket of its own, followed by what that socket normally gets an answer to; the answer
must still come, and no exception may escape the consumer: WebsocketCommunicator re-raises it on the next receive
or on disconnect, so a crash fails the test with the consumer's traceback and the bad message named in a note.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from gallery.frames import events, pairing
from gallery.frames.models import Frame, Playlist
from glowworm.asgi import application
from tests.gallery_factories import make_photo_row
from tests.test_frames_consumer import frame_headers, make_frame
from tests.test_live_updates import ORIGIN, receive_until, session_headers

HUGE = 10**30  # past any 64-bit id; SQLite cannot bind it
MEGABYTE = 2**20

MALFORMED: dict[str, str | bytes] = {
    "not JSON": "not json",
    "cut-off JSON": '{"type": "hello"',
    "empty text": "",
    "a list": "[1, 2]",
    "a number": "5",
    "a string": '"hello"',
    "null": "null",
    "unknown type": '{"type": "reboot"}',
    "type is a list": '{"type": ["screen"]}',
    "type is an object": '{"type": {"screen": 1}}',
    "hello with a word for a screen": '{"type": "hello", "screen": "x"}',
    "hello showing a huge id": f'{{"type": "hello", "showing": {HUGE}}}',
    "hello showing a negative id": '{"type": "hello", "showing": -1}',
    "screen with words for sizes": '{"type": "screen", "width": "wide", "height": null}',
    "screen of infinite width": '{"type": "screen", "width": 1e400, "height": 1080}',
    "screen of NaN width": '{"type": "screen", "width": NaN, "height": 1080}',
    "screen huge wide and negative high": f'{{"type": "screen", "width": {HUGE}, "height": -5}}',
    "screen as a list": '{"type": "screen", "width": [1920], "height": {"h": 1080}}',
    "heartbeat with an infinite photo": '{"type": "heartbeat", "photo": 1e400}',
    "showing a list": '{"type": "showing", "photo": [1]}',
    "showing a huge id": f'{{"type": "showing", "photo": {HUGE}}}',
    "sync with a word for pending": '{"sync": {"pending": "x"}}',
    "sync as a list": '{"sync": [1]}',
    "sync null": '{"sync": null}',
    "pending null": '{"sync": {"pending": null}}',
    "pending an object": '{"sync": {"pending": {"a": 1}}}',
    "pending infinity": '{"sync": {"pending": [1e400]}}',
    "pending a huge id": f'{{"sync": {{"pending": [{HUGE}]}}}}',
    "pending a huge negative id": f'{{"sync": {{"pending": [-{HUGE}]}}}}',
    "after a huge id": f'{{"sync": {{"after": {HUGE}}}}}',
    "after a negative id": '{"sync": {"after": -5}}',
    "after infinity": '{"sync": {"after": 1e400}}',
    "1 MB of text": "x" * MEGABYTE,
    "1 MB of nested lists": "[" * MEGABYTE,
    "1 MB list of ids": '{"sync": {"pending": [' + "1," * (MEGABYTE // 2 - 20) + "1]}}",
    "binary junk": b"\x00\xff" * 512,
    "JSON as a binary frame": b'{"type": "hello"}',
    "1 MB binary frame": bytes(MEGABYTE),
}


async def survives(path: str, headers, bad: str | bytes, then, answered) -> None:
    """Send bad on a new socket, then `then()` (a normal message or a push), and wait for its answer."""
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_input({"type": "websocket.receive", "bytes" if isinstance(bad, bytes) else "text": bad})
    await then(socket)
    await receive_until(socket, answered, timeout=10)
    await socket.disconnect()


def each_malformed_message(path: str, headers, then, answered) -> None:
    async def scenario():
        for name, bad in MALFORMED.items():
            try:
                await survives(path, headers, bad, then, answered)
            except BaseException as exc:
                exc.add_note(f"after the malformed message: {name}")
                raise

    async_to_sync(scenario)()


def send(message: dict):
    async def then(socket):
        await socket.send_to(text_data=json.dumps(message))

    return then


@pytest.mark.django_db(transaction=True)
def test_gallery_socket_survives_malformed_messages(redis_conn, client_logged_in):
    photo = make_photo_row()
    each_malformed_message(
        "/ws/gallery/",
        session_headers(client_logged_in),
        send({"sync": {"pending": [photo.pk], "after": photo.pk}}),
        lambda m: f'id="photo-{photo.pk}"' in m,
    )


@pytest.mark.django_db(transaction=True)
def test_frame_socket_survives_malformed_messages(redis_conn):
    frame, secret = make_frame("Hall frame", Playlist.objects.create(name="Hall"))
    each_malformed_message(
        "/ws/frame/", frame_headers(secret), send({"type": "hello"}), lambda m: json.loads(m)["type"] == "state"
    )
    frame = Frame.objects.get(pk=frame.pk)
    # Nothing malformed was recorded, and every socket's disconnect ran.
    assert (frame.screen_width, frame.screen_height, frame.showing_id, frame.connections) == (None, None, None, 0)


@pytest.mark.django_db(transaction=True)
def test_socket_of_a_browser_waiting_with_a_code_survives_malformed_messages(redis_conn):
    code, claim = pairing.start_pairing()
    headers = [(b"cookie", f"{pairing.CLAIM_COOKIE}={claim}".encode()), (b"origin", ORIGIN)]

    async def confirmed(socket):  # what this socket waits for; the browser sends nothing that is answered
        await get_channel_layer().group_send(events.pairing_group(code.pk), {"type": events.PAIRED_TYPE})

    each_malformed_message("/ws/frame/", headers, confirmed, lambda m: json.loads(m) == {"type": "paired"})


@pytest.mark.django_db(transaction=True)
def test_frames_page_socket_survives_malformed_messages(redis_conn, client_logged_in):
    frame, _ = make_frame("Hall frame")
    each_malformed_message(
        "/ws/frames/",
        session_headers(client_logged_in),
        send({"sync": {"pending": []}}),
        lambda m: f'id="frame-{frame.pk}"' in m,
    )
