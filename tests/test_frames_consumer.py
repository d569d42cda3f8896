"""The frame websocket through the real Channels Redis layer: a push reaches only its frame, the state comes on
every screen report and hello, commands, revocation, the pairing wait, the frames page's live status, and the
minute schedule job."""

import json
import secrets
from datetime import time

import django_rq
import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from gallery.frames import auth, events, pairing, playlists, scheduling, screens, state
from gallery.frames.models import Frame, FrameSchedule, PairingCode, Playlist, PlaylistItem
from gallery.models import DisplaySize, Photo, Variant, hash_token
from gallery.services import rotate_photo
from gallery.trash import trash_photos
from glowworm.asgi import application
from processing import jobs
from tests.conftest import DATA, render_chain
from tests.gallery_factories import make_photo_row
from tests.test_live_updates import ORIGIN, receive_until, session_headers
from tests.test_render import make_photo


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """One channel layer per test: each test runs its own event loop, and a layer's receive lock belongs to one loop
    (a lock left held by a finished test's loop made the next test hang at shutdown)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def make_frame(name: str, playlist=None, **fields) -> tuple[Frame, str]:
    secret = secrets.token_urlsafe(32)
    frame = Frame.objects.create(name=name, playlist=playlist, secret_digest=hash_token(secret), **fields)
    return frame, secret


def frame_headers(secret: str):
    return [(b"cookie", f"{auth.FRAME_COOKIE}={secret}".encode()), (b"origin", ORIGIN)]


async def connect_frame(secret: str, screen=(1920, 1080)) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(application, "/ws/frame/", headers=frame_headers(secret))
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data=json.dumps({"type": "screen", "width": screen[0], "height": screen[1]}))
    state = json.loads(await receive_until(communicator, lambda m: '"type": "state"' in m))
    return communicator, state


def photo_ids(state: dict) -> list[int]:
    return [photo["id"] for slide in state["slides"] for photo in slide["photos"]]


async def nothing_arrives(communicator, seconds=1.5) -> None:
    assert await communicator.receive_nothing(timeout=seconds)


@pytest.mark.django_db(transaction=True)
def test_a_playlist_change_reaches_only_the_frames_that_show_it(redis_conn):
    hall, office = Playlist.objects.create(name="Hall"), Playlist.objects.create(name="Office")
    photo = make_photo_row()
    _, hall_secret = make_frame("Hall frame", hall)
    _, office_secret = make_frame("Office frame", office)

    async def scenario():
        hall_socket, hall_state = await connect_frame(hall_secret)
        office_socket, _ = await connect_frame(office_secret)
        assert hall_state["slides"] == []
        await database_sync_to_async(playlists.add_photos)(playlist=hall, photo_ids=[photo.pk])
        state = json.loads(await receive_until(hall_socket, lambda m: '"type": "state"' in m, timeout=5))
        assert photo_ids(state) == [photo.pk]
        await nothing_arrives(office_socket)
        await hall_socket.disconnect()
        await office_socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_settings_order_and_deletion_are_pushed(redis_conn, media_root):
    playlist = Playlist.objects.create(name="Hall")
    first, second = make_photo_row(), make_photo_row()
    playlists.add_photos(playlist=playlist, photo_ids=[first.pk, second.pk])
    _, secret = make_frame("Hall frame", playlist)

    async def scenario():
        socket, state = await connect_frame(secret)
        assert photo_ids(state) == [first.pk, second.pk]
        items = await database_sync_to_async(
            lambda: list(
                PlaylistItem.objects.filter(playlist=playlist).order_by("-position").values_list("pk", flat=True)
            )
        )()
        await database_sync_to_async(playlists.reorder)(playlist=playlist, item_ids=items)
        state = json.loads(await receive_until(socket, lambda m: '"type": "state"' in m))
        assert photo_ids(state) == [second.pk, first.pk]

        def slower():
            Playlist.objects.filter(pk=playlist.pk).update(interval=90, transition="kenburns")
            playlists.update_playlist(playlist=playlist)

        await database_sync_to_async(slower)()
        state = json.loads(await receive_until(socket, lambda m: '"type": "state"' in m))
        assert state["playlist"]["interval"] == 90 and state["playlist"]["transition"] == "kenburns"

        await database_sync_to_async(lambda: trash_photos(photo_ids=[second.pk]))()
        state = json.loads(await receive_until(socket, lambda m: '"type": "state"' in m))
        assert photo_ids(state) == [first.pk]
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_rotated_and_rerendered_photo_reaches_the_frame(redis_conn, media_root):
    photo = make_photo(media_root, DATA / "photos" / "landscape_orientation_1.jpg")
    assert render_chain(photo.pk) == "ready"
    playlist = Playlist.objects.create(name="Hall")
    playlists.add_photos(playlist=playlist, photo_ids=[photo.pk])
    _, secret = make_frame("Hall frame", playlist)

    async def scenario():
        socket, state = await connect_frame(secret)
        before = state["slides"][0]["photos"][0]
        assert before["width"] > before["height"]
        await database_sync_to_async(lambda: rotate_photo(photo=Photo.objects.get(pk=photo.pk), degrees=90))()
        await database_sync_to_async(render_chain)(photo.pk)  # what the worker does
        after = await receive_until(
            socket, lambda m: '"type": "state"' in m and json.loads(m)["slides"][0]["photos"][0]["height"] > 1000
        )
        turned = json.loads(after)["slides"][0]["photos"][0]
        assert turned["height"] > turned["width"] and turned["src"] != before["src"]
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_admin_commands_reach_the_frame(redis_conn, client_logged_in):
    frame, secret = make_frame("Hall frame")

    async def scenario():
        socket, _ = await connect_frame(secret)
        for name in ("next", "previous", "refresh"):
            response = await database_sync_to_async(client_logged_in.post)(
                f"/frames/{frame.pk}/command/", {"command": name}
            )
            assert response.status_code == 302
            message = json.loads(await receive_until(socket, lambda m: '"command"' in m))
            assert message == {"type": "command", "command": name}
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_revoking_closes_the_frames_socket_and_refuses_it_afterwards(redis_conn):
    frame, secret = make_frame("Hall frame")

    async def scenario():
        socket, _ = await connect_frame(secret)
        await database_sync_to_async(pairing.revoke_frame)(frame=frame)
        assert json.loads(await receive_until(socket, lambda m: "revoked" in m)) == {"type": "revoked"}
        assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"
        again = WebsocketCommunicator(application, "/ws/frame/", headers=frame_headers(secret))
        connected, _ = await again.connect()
        assert not connected
        await again.disconnect()  # let refused consumers finish: no task may outlive the test's event loop
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_sockets_without_a_frame_secret_or_pairing_claim_are_refused(redis_conn):
    async def scenario():
        for headers in ([(b"origin", ORIGIN)], frame_headers("made-up")):
            communicator = WebsocketCommunicator(application, "/ws/frame/", headers=headers)
            connected, _ = await communicator.connect()
            assert not connected
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_browser_showing_a_code_hears_when_it_is_confirmed(redis_conn, user):
    code, claim = pairing.start_pairing()
    headers = [(b"cookie", f"{pairing.CLAIM_COOKIE}={claim}".encode()), (b"origin", ORIGIN)]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/frame/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(pairing.pair_frame)(code=code.code, name="Hall", playlist=None)
        assert json.loads(await receive_until(communicator, lambda m: "paired" in m)) == {"type": "paired"}
        await communicator.disconnect()

    async_to_sync(scenario)()
    assert PairingCode.objects.get(pk=code.pk).frame.name == "Hall"


@pytest.mark.django_db(transaction=True)
def test_frames_page_sees_connect_heartbeat_and_disconnect_live(redis_conn, client_logged_in):
    photo = make_photo_row()
    playlist = Playlist.objects.create(name="Hall")
    playlists.add_photos(playlist=playlist, photo_ids=[photo.pk])
    frame, secret = make_frame("Hall frame", playlist)

    async def scenario():
        admin = WebsocketCommunicator(application, "/ws/frames/", headers=session_headers(client_logged_in))
        connected, _ = await admin.connect()
        assert connected
        socket, _ = await connect_frame(secret, screen=(1080, 1920))
        await receive_until(admin, lambda m: f'id="frame-{frame.pk}"' in m and 'data-online="true"' in m)
        await receive_until(admin, lambda m: f'id="frame-{frame.pk}"' in m and "1080×1920" in m)
        await socket.send_to(text_data=json.dumps({"type": "showing", "photo": photo.pk}))
        await receive_until(admin, lambda m: f'data-showing="{photo.pk}"' in m)
        await socket.disconnect()
        await receive_until(admin, lambda m: f'id="frame-{frame.pk}"' in m and 'data-online="false"' in m)
        # A (re)connecting page asks for everything.
        await admin.send_to(text_data=json.dumps({"sync": {"pending": []}}))
        await receive_until(admin, lambda m: f'id="frame-{frame.pk}"' in m)
        await admin.disconnect()

    async_to_sync(scenario)()
    frame.refresh_from_db()
    assert frame.showing_id == photo.pk and frame.connections == 0 and frame.last_seen_at is not None


@pytest.mark.django_db(transaction=True)
def test_frames_page_socket_needs_a_login(redis_conn):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/frames/", headers=[(b"origin", ORIGIN)])
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_minute_job_switches_and_reverts_a_frame_at_once(redis_conn):
    default, night = Playlist.objects.create(name="Day"), Playlist.objects.create(name="Night")
    frame, secret = make_frame("Hall frame", default, time_zone="UTC")
    window = FrameSchedule.objects.create(
        frame=frame, weekdays="0123456", start=time(0, 0), end=time(0, 0), action="playlist", playlist=night
    )

    async def scenario():
        socket, state = await connect_frame(secret)
        assert state["playlist"]["name"] == "Night"
        assert await database_sync_to_async(scheduling.apply_schedules)() == 1
        await receive_until(socket, lambda m: '"name": "Night"' in m)
        assert await database_sync_to_async(scheduling.apply_schedules)() == 0  # no change, no push
        await database_sync_to_async(lambda: FrameSchedule.objects.filter(pk=window.pk).update(action="blank"))()
        assert await database_sync_to_async(scheduling.apply_schedules)() == 1
        blank = json.loads(await receive_until(socket, lambda m: '"type": "state"' in m))
        assert blank["blank"] is True and blank["slides"] == []
        await database_sync_to_async(lambda: FrameSchedule.objects.filter(pk=window.pk).delete())()
        assert await database_sync_to_async(scheduling.apply_schedules)() == 1
        back = json.loads(await receive_until(socket, lambda m: '"type": "state"' in m and '"blank": false' in m))
        assert back["playlist"]["name"] == "Day"
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_frame_gets_the_display_size_of_its_screens_bucket(redis_conn, media_root, run_worker):
    photo = make_photo(media_root, DATA / "photos" / "landscape_orientation_1.jpg")
    assert jobs.render_photo(photo.pk, stages=["thumbnail"]) == "ready"  # only grid sizes so far
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.READY)
    playlist = Playlist.objects.create(name="Hall")
    playlists.add_photos(playlist=playlist, photo_ids=[photo.pk])
    frame, _ = make_frame("Wall", playlist)

    screens.record_screen(frame, width=5120, height=2880)  # no bucket holds it: the largest landscape one
    assert list(DisplaySize.objects.values_list("width", "height")) == [(3840, 2160)]
    assert jobs.wanted_display_sizes([photo.pk]) == {photo.pk: {(3840, 2160)}}  # only for the photos it shows
    assert "display-3840x2160" not in {spec.name for spec in jobs.current_specs()}
    screens.record_screen(frame, width=1200, height=700)  # a 720p bucket; the 4K one is used by no frame now
    assert list(DisplaySize.objects.values_list("width", "height")) == [(1280, 720)]
    assert Frame.objects.get(pk=frame.pk).screen_size == "1200×700"

    shown = state.read_state(Frame.objects.get(pk=frame.pk)).message["slides"][0]["photos"][0]
    assert shown["width"] == 800  # the next-best size meanwhile (thumb2x)
    assert Photo.objects.get(pk=photo.pk).status == Photo.Status.READY  # reading the state queues nothing
    assert screens.request_display_renders([frame.pk]) == 1
    assert Photo.objects.get(pk=photo.pk).status == Photo.Status.READY  # a display job leaves the status alone
    assert [job.id for job in django_rq.get_queue("bulk").jobs] == [jobs.render_job_id(photo.pk, jobs.DISPLAY)]
    run_worker()
    photo = Photo.objects.get(pk=photo.pk)
    assert photo.status == Photo.Status.READY and "display-1280x720" in photo.variants_by_name
    shown = state.read_state(Frame.objects.get(pk=frame.pk)).message["slides"][0]["photos"][0]
    assert (shown["width"], shown["height"]) == (1080, 700 * 1080 // 1050)  # fits 1200x700, from the 720p bucket


def test_the_smallest_covering_variant_is_chosen():
    photo = Photo(width=3000, height=2000)
    variants = [
        Variant(name=name, width=w, height=h)
        for name, w, h in (("thumb", 400, 267), ("preview", 2048, 1365), ("display-1920x1080", 1620, 1080))
    ]
    chosen, covers = state.choose_variant(photo, variants, (1920, 1080))
    assert chosen.name == "display-1920x1080" and covers
    chosen, covers = state.choose_variant(photo, variants, (960, 1080))  # half a screen: side by side
    assert chosen.name == "display-1920x1080" and covers
    chosen, covers = state.choose_variant(photo, variants, (1920, 540))  # stacked: 810x540 is enough
    assert chosen.name == "display-1920x1080" and covers
    chosen, covers = state.choose_variant(photo, variants, (600, 400))
    assert chosen.name == "display-1920x1080" and covers  # thumb 400 is too small
    chosen, covers = state.choose_variant(photo, variants, (3840, 2160))
    assert chosen.name == "preview" and not covers
    small = Photo(width=1000, height=800)
    tiny = [Variant(name="preview", width=1000, height=800)]
    assert state.choose_variant(small, tiny, (3840, 2160)) == (tiny[0], True)  # never more than it has


def test_frame_events_use_their_own_group_names():

    assert events.frame_group(3) == "frame-3" != events.frame_group(4)
    with pytest.raises(ValueError):
        events.command(3, "reboot")


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_hints_costs_few_state_reads(redis_conn):
    from channels.layers import get_channel_layer

    frame, secret = make_frame("Hall frame", Playlist.objects.create(name="Hall"))

    async def scenario():
        socket, _ = await connect_frame(secret)
        layer = get_channel_layer()
        for _ in range(20):
            await layer.group_send(events.frame_group(frame.pk), {"type": events.SYNC_TYPE})
        states = 0
        while not await socket.receive_nothing(timeout=2):
            states += '"type": "state"' in await socket.receive_from()
        assert 1 <= states < 20
        await socket.disconnect()

    async_to_sync(scenario)()
