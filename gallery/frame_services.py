"""Frame services: what a frame shows now (schedule, playlist, slides, variants sized for its screen), pairing,
heartbeats, and the minute job that applies schedules. Pushes go through processing.frame_events."""

from __future__ import annotations

import logging
import random
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from gallery import frame_auth, pairing, schedules
from gallery.models import (
    AlbumPhoto,
    DisplaySize,
    Frame,
    FrameSchedule,
    Photo,
    Playlist,
    PlaylistAlbum,
    PlaylistItem,
    Variant,
)

logger = logging.getLogger(__name__)

# Screen assumed until a frame reports its own (a 1080p television).
DEFAULT_SCREEN = (1920, 1080)
# Renders queued for one frame at a time; the rest follow on its next state (every reconnect or change).
MISSING_RENDERS_PER_STATE = 100
# A display size a frame may add is at most this wide or tall (8K): beyond it, the largest variant shows.
MAX_SCREEN_SIDE = 8192
# A frame is online while a socket is open and a heartbeat came within this many seconds (frames beat every 30).
ONLINE_WITHIN = 90


def zone_of(frame: Frame) -> ZoneInfo:
    try:
        return ZoneInfo(frame.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def windows_of(frame: Frame) -> list[schedules.Window]:
    return [
        schedules.Window(
            id=row.pk,
            weekdays=schedules.parse_weekdays(row.weekdays),
            start=row.start,
            end=row.end,
            action=row.action,
            playlist_id=row.playlist_id,
            priority=row.priority,
        )
        for row in FrameSchedule.objects.filter(frame=frame)
    ]


def program(frame: Frame, when: datetime | None = None) -> schedules.Program:
    return schedules.program_at(
        windows_of(frame), default_playlist_id=frame.playlist_id, when=when or timezone.now(), zone=zone_of(frame)
    )


def is_online(frame: Frame, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(frame.connections and frame.last_seen_at and (now - frame.last_seen_at).total_seconds() < ONLINE_WITHIN)


# ---------------------------------------------------------------------------------------------------------------
# Variants sized for the screen.


def needed_size(photo_width: int, photo_height: int, cell_width: int, cell_height: int) -> tuple[int, int]:
    """Pixels a photo fills when fitted (contain) into a cell; never more than the photo has."""
    scale = min(cell_width / photo_width, cell_height / photo_height, 1.0)
    return round(photo_width * scale), round(photo_height * scale)


def choose_variant(photo: Photo, variants: list[Variant], cell: tuple[int, int]) -> tuple[Variant | None, bool]:
    """The smallest variant that covers the cell, else the largest there is. Returns (variant, covers)."""
    if not variants or not photo.width or not photo.height:
        return None, False
    need_w, need_h = needed_size(photo.width, photo.height, *cell)
    # One pixel of slack: a variant rounded down when it was rendered still covers.
    covering = [v for v in variants if max(v.width, v.height) >= max(need_w, need_h) - 1]
    if covering:
        return min(covering, key=lambda v: v.width * v.height), True
    return max(variants, key=lambda v: v.width * v.height), False


def display_sizes() -> list[tuple[int, int]]:
    return [*settings.GLOWWORM_DISPLAY_SIZES, *DisplaySize.objects.values_list("width", "height")]


def covering_display_size(width: int, height: int, sizes: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The smallest display size whose bounding box holds the whole screen: its variants cover every photo."""
    holding = [(w, h) for w, h in sizes if w >= width and h >= height]
    return min(holding, key=lambda size: size[0] * size[1]) if holding else None


def ensure_display_size(width: int, height: int) -> tuple[int, int]:
    """Add the screen to the rendered display sizes unless one already covers it."""
    size = covering_display_size(width, height, display_sizes())
    if size is None:
        try:
            with transaction.atomic():
                DisplaySize.objects.create(width=width, height=height)
        except IntegrityError:
            pass  # another frame with the same screen got there first
        size = (width, height)
    return size


def report_screen(frame: Frame, *, width: int, height: int) -> None:
    """A frame told us its screen in physical pixels (CSS pixels x devicePixelRatio)."""
    width, height = max(1, min(int(width), MAX_SCREEN_SIDE)), max(1, min(int(height), MAX_SCREEN_SIDE))
    if (frame.screen_width, frame.screen_height) != (width, height):
        frame.screen_width, frame.screen_height = width, height
        Frame.objects.filter(pk=frame.pk).update(screen_width=width, screen_height=height)
    ensure_display_size(width, height)


def request_missing_renders(photos: list[Photo], spec_name: str) -> int:
    """Queue renders of the display size a frame needs, for photos that lack it (the frame shows the next-best
    size meanwhile). Only ready photos: pending ones render every current size anyway."""
    from processing import jobs
    from processing.specs import VARIANT

    queued = 0
    for photo in photos:
        if queued >= MISSING_RENDERS_PER_STATE:
            break
        if photo.status != Photo.Status.READY or spec_name in photo.variants_by_name:
            continue
        try:
            if jobs.queue_rerender(photo.pk, stages=[VARIANT], missing_only=True) == "queued":
                queued += 1
        except Exception:  # Redis away: the next state asks again
            logger.warning("Could not queue a display render for photo %s", photo.pk, exc_info=True)
            break
    return queued


# ---------------------------------------------------------------------------------------------------------------
# The state a frame shows. The database is the source of truth: a frame asks for it on every (re)connect, and
# pushes only tell it to ask again.


def current_playlist(frame: Frame, decision: schedules.Program | None = None) -> Playlist | None:
    decision = decision or program(frame)
    if decision.blank or decision.playlist_id is None:
        return None
    return Playlist.objects.filter(pk=decision.playlist_id).first()


def frame_may_see_photo(frame: Frame, photo_id: int) -> bool:
    playlist = current_playlist(frame)
    return playlist is not None and playlist.contains_photo(photo_id)


def variant_url(variant: Variant) -> str:
    return reverse("frame-variant", args=[variant.pk, variant.file.rsplit("/", 1)[-1]])


def _captions(photos: list[Photo], zone: ZoneInfo) -> dict[int, str]:
    albums: dict[int, str] = {}
    for photo_id, name in (
        AlbumPhoto.objects.filter(photo__in=photos)
        .order_by("album__name", "album_id")
        .values_list("photo_id", "album__name")
    ):
        albums.setdefault(photo_id, name)
    captions = {}
    for photo in photos:
        parts = []
        if photo.taken_at:
            parts.append(date_format(photo.taken_at.astimezone(zone), "j F Y"))
        if photo.pk in albums:
            parts.append(albums[photo.pk])
        captions[photo.pk] = " · ".join(parts)
    return captions


def build_state(frame: Frame, *, now: datetime | None = None, queue_missing: bool = True) -> dict:
    """Everything the slideshow needs, as JSON: no metadata beyond the caption, no original or API URLs."""
    decision = program(frame, now)
    playlist = current_playlist(frame, decision)
    screen = (frame.screen_width or DEFAULT_SCREEN[0], frame.screen_height or DEFAULT_SCREEN[1])
    portrait = screen[1] > screen[0]
    state = {
        "type": "state",
        "frame": {"id": frame.pk, "name": frame.name},
        "blank": decision.blank,
        "playlist": None,
        "slides": [],
    }
    if playlist is None:
        return state
    state["playlist"] = {
        "id": playlist.pk,
        "name": playlist.name,
        "interval": playlist.interval,
        "transition": playlist.transition,
        "captions": playlist.captions,
    }
    ids = playlist.photo_ids()
    if playlist.shuffle:
        # Stable for a frame until the playlist changes, so a reconnect does not reshuffle what is on screen.
        random.Random(f"{frame.pk}:{playlist.pk}:{playlist.updated_at.isoformat()}").shuffle(ids)
    photos = Photo.objects.filter(pk__in=ids).exclude(status=Photo.Status.FAILED).prefetch_related("variants").in_bulk()
    ordered = [photos[pk] for pk in ids if pk in photos and photos[pk].variants_by_name]
    slides = pairing.pair([pairing.Shape(p.pk, p.width, p.height) for p in ordered], portrait_frame=portrait)
    captions = _captions(ordered, zone_of(frame)) if playlist.captions else {}
    lacking = []
    for slide in slides:
        if slide.layout == pairing.STACKED:
            cell = (screen[0], screen[1] // 2)
        elif slide.layout == pairing.SIDE_BY_SIDE:
            cell = (screen[0] // 2, screen[1])
        else:
            cell = screen
        entries = []
        for photo_id in slide.ids:
            photo = photos[photo_id]
            variant, covers = choose_variant(photo, list(photo.variants_by_name.values()), cell)
            if variant is None:
                continue
            if not covers:
                lacking.append(photo)
            entries.append(
                {
                    "id": photo.pk,
                    "src": variant_url(variant),
                    "width": variant.width,
                    "height": variant.height,
                    "caption": captions.get(photo.pk, ""),
                }
            )
        if entries:
            state["slides"].append(
                {"key": "-".join(str(e["id"]) for e in entries), "layout": slide.layout, "photos": entries}
            )
    if lacking and queue_missing:
        size = covering_display_size(*screen, display_sizes())
        if size is not None:
            request_missing_renders(lacking, f"display-{size[0]}x{size[1]}")
    return state


# ---------------------------------------------------------------------------------------------------------------
# Pairing and administration.


@transaction.atomic
def pair_frame(*, code: str, name: str, playlist: Playlist | None, replace: Frame | None = None) -> Frame:
    """Confirm a code: a new frame, or an existing one paired again (its old secret stops working)."""
    if replace is not None:
        frame = replace
        frame.name = name or frame.name
        frame.playlist = playlist
        frame.save(update_fields=["name", "playlist"])
        frame_auth.revoke(frame)
    else:
        frame = Frame.objects.create(name=name, playlist=playlist)
    pairing_code = frame_auth.confirm_pairing(code=code, frame=frame)
    from processing import frame_events

    transaction.on_commit(lambda: frame_events.paired(pairing_code.pk))
    if replace is not None:
        transaction.on_commit(lambda: frame_events.revoked(frame.pk))
    return frame


def revoke_frame(*, frame: Frame) -> None:
    from processing import frame_events

    frame_auth.revoke(frame)
    frame_events.revoked(frame.pk)
    frame_events.status_changed(frame.pk)


def record_heartbeat(frame_id: int, *, showing: int | None = None, connected: int = 0) -> None:
    """A heartbeat or a new photo on screen; `connected` is +1 on connect and -1 on disconnect."""
    from django.db.models import F
    from django.db.models.functions import Greatest

    fields: dict = {"last_seen_at": timezone.now()}
    if showing is not None:
        fields["showing_id"] = showing if Photo.objects.filter(pk=showing).exists() else None
    if connected:
        fields["connections"] = Greatest(F("connections") + connected, 0)
    else:
        # A heartbeat proves a socket is open, even after the minute job wrote a silent frame off.
        fields["connections"] = Greatest(F("connections"), 1)
    Frame.objects.filter(pk=frame_id).update(**fields)


def frames_showing_playlists(playlist_ids: set[int]) -> list[int]:
    """Frames whose default playlist is one of these, or whose schedule may switch to one."""
    if not playlist_ids:
        return []
    return list(
        Frame.objects.filter(Q(playlist_id__in=playlist_ids) | Q(schedules__playlist_id__in=playlist_ids))
        .distinct()
        .values_list("pk", flat=True)
    )


def playlists_with_photo(photo_id: int) -> set[int]:
    direct = PlaylistItem.objects.filter(photo_id=photo_id).values_list("playlist_id", flat=True)
    via_album = PlaylistAlbum.objects.filter(album__memberships__photo_id=photo_id).values_list(
        "playlist_id", flat=True
    )
    return set(direct) | set(via_album)


def frame_status_html(frame_ids: list[int] | None = None) -> str:
    frames = Frame.objects.select_related("playlist", "showing").prefetch_related("showing__variants")
    if frame_ids is not None:
        frames = frames.filter(pk__in=frame_ids)
    now = timezone.now()
    return "".join(
        render_to_string("frames/_frame_status.html", {"frame": frame, "online": is_online(frame, now), "push": True})
        for frame in frames
    )


def apply_schedules(now: datetime | None = None) -> int:
    """The minute job (processing/cron.py): push each frame whose scheduled program changed; also report frames
    that went quiet without closing their socket. Returns how many frames changed program."""
    from processing import frame_events

    now = now or timezone.now()
    changed = 0
    for frame in Frame.objects.filter(secret_digest__isnull=False):
        key = program(frame, now).key
        if key != frame.schedule_state:
            Frame.objects.filter(pk=frame.pk).update(schedule_state=key)
            frame_events.frame_changed(frame.pk)
            changed += 1
        if frame.connections and not is_online(frame, now):
            # Silent for too long (a dead socket, a server that restarted): offline until it beats again.
            Frame.objects.filter(pk=frame.pk).update(connections=0)
            frame_events.status_changed(frame.pk)
    return changed


# ---------------------------------------------------------------------------------------------------------------
# Playlists. Every change tells the frames that show the playlist, after commit.


def _changed(playlist: Playlist) -> None:
    from processing import frame_events

    Playlist.objects.filter(pk=playlist.pk).update(updated_at=timezone.now())
    playlist_id = playlist.pk
    transaction.on_commit(lambda: frame_events.playlists_changed({playlist_id}), robust=True)


@transaction.atomic
def add_photos(*, playlist: Playlist, photo_ids: list[int]) -> int:
    """Append photos in the order given; photos already in the playlist stay where they are."""
    existing = set(PlaylistItem.objects.filter(playlist=playlist).values_list("photo_id", flat=True))
    known = set(Photo.objects.filter(pk__in=photo_ids).values_list("pk", flat=True))
    new_ids = [pk for pk in dict.fromkeys(photo_ids) if pk in known and pk not in existing]
    last = PlaylistItem.objects.filter(playlist=playlist).order_by("-position").values_list("position", flat=True)
    start = (last.first() or 0) + 1
    PlaylistItem.objects.bulk_create(
        [PlaylistItem(playlist=playlist, photo_id=pk, position=start + n) for n, pk in enumerate(new_ids)],
        ignore_conflicts=True,
    )
    _changed(playlist)
    return len(new_ids)


@transaction.atomic
def remove_items(*, playlist: Playlist, item_ids: list[int]) -> int:
    removed, _ = PlaylistItem.objects.filter(playlist=playlist, pk__in=item_ids).delete()
    _changed(playlist)
    return removed


@transaction.atomic
def reorder(*, playlist: Playlist, item_ids: list[int]) -> None:
    """Put the items in this order; items not named keep their relative order after them."""
    items = list(PlaylistItem.objects.select_for_update().filter(playlist=playlist).order_by("position", "id"))
    rank = {pk: n for n, pk in enumerate(dict.fromkeys(item_ids))}
    items.sort(key=lambda item: (rank.get(item.pk, len(rank)), item.position, item.pk))
    for position, item in enumerate(items, start=1):
        item.position = position
    PlaylistItem.objects.bulk_update(items, ["position"])
    _changed(playlist)


def move(*, playlist: Playlist, item_id: int, direction: str) -> None:
    ids = list(PlaylistItem.objects.filter(playlist=playlist).order_by("position", "id").values_list("pk", flat=True))
    if item_id not in ids:
        return
    index = ids.index(item_id)
    ids.pop(index)
    target = {"up": index - 1, "down": index + 1, "top": 0, "bottom": len(ids)}[direction]
    ids.insert(max(0, min(target, len(ids))), item_id)
    reorder(playlist=playlist, item_ids=ids)


@transaction.atomic
def follow_album(*, playlist: Playlist, album) -> None:
    PlaylistAlbum.objects.get_or_create(playlist=playlist, album=album)
    _changed(playlist)


@transaction.atomic
def unfollow_album(*, playlist: Playlist, album_id: int) -> None:
    PlaylistAlbum.objects.filter(playlist=playlist, album_id=album_id).delete()
    _changed(playlist)


def copy_album(*, playlist: Playlist, album) -> int:
    ids = list(AlbumPhoto.objects.filter(album=album).order_by("added_at", "id").values_list("photo_id", flat=True))
    return add_photos(playlist=playlist, photo_ids=ids)


def update_playlist(*, playlist: Playlist) -> None:
    """After the settings form saved the playlist."""
    with transaction.atomic():
        _changed(playlist)


@transaction.atomic
def delete_playlist(*, playlist: Playlist) -> None:
    """Delete the playlist and its items; photos stay. Frames that showed it sync (to nothing, calmly)."""
    from processing import frame_events

    frame_ids = frames_showing_playlists({playlist.pk})
    playlist.delete()
    transaction.on_commit(lambda: frame_events.frames_changed(frame_ids), robust=True)


def frame_settings_changed(frame: Frame) -> None:
    """The frame's default playlist, time zone or schedule changed: apply at once, not at the next minute."""
    from processing import frame_events

    key = program(frame).key
    Frame.objects.filter(pk=frame.pk).update(schedule_state=key)
    frame_id = frame.pk
    transaction.on_commit(lambda: frame_events.frame_changed(frame_id), robust=True)
