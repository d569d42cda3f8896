"""What a frame shows now: its program (schedule, else default playlist), the playlist's photos laid out in slides,
and the variant of each photo sized for the frame's screen. Reads only: nothing here writes or queues work.

The database is the source of truth: a frame asks for its state on every (re)connect, and pushes only tell it to
ask again.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from gallery.frames import schedules, slides
from gallery.frames.models import Frame, FrameSchedule, Playlist, PlaylistAlbum, PlaylistItem
from gallery.models import AlbumPhoto, Photo, Variant
from processing.specs import display_spec

# Screen assumed until a frame reports its own (a 1080p television).
DEFAULT_SCREEN = (1920, 1080)


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


def current_playlist(frame: Frame, decision: schedules.Program | None = None) -> Playlist | None:
    decision = decision or program(frame)
    if decision.blank or decision.playlist_id is None:
        return None
    return Playlist.objects.filter(pk=decision.playlist_id).first()


def frame_may_see_photo(frame: Frame, photo_id: int) -> bool:
    playlist = current_playlist(frame)
    return playlist is not None and playlist.contains_photo(photo_id)


def screen_of(frame: Frame) -> tuple[int, int]:
    return (frame.screen_width or DEFAULT_SCREEN[0], frame.screen_height or DEFAULT_SCREEN[1])


def needed_size(photo_width: int, photo_height: int, cell_width: int, cell_height: int) -> tuple[int, int]:
    """Pixels a photo fills when fitted (contain) into a cell; never more than the photo has."""
    scale = min(cell_width / photo_width, cell_height / photo_height, 1.0)
    return round(photo_width * scale), round(photo_height * scale)


@dataclass(slots=True)
class ShownVariant:
    """A variant as a frame chooses between them: plain values, as a 10,000-photo playlist has 40,000 of them and a
    model instance each would cost seconds."""

    pk: int
    name: str
    file: str
    width: int
    height: int


@dataclass(slots=True)
class ShownPhoto:
    pk: int
    width: int
    height: int
    status: str
    variants_by_name: dict[str, ShownVariant] = field(default_factory=dict)


# How a photo is in a playlist: as an item of its own, or in an album the playlist follows.
PLAYLIST_ROUTES = ("playlist_items__playlist", "album_memberships__album__playlist_links__playlist")


def shown_photos(playlist: Playlist, display_name: str | None = None) -> dict[int, ShownPhoto]:
    """The playlist's photos that are not failed and have a variant, with their variants: one join per route from
    the variant rows to the playlist, never a list of thousands of ids sent back to the database.

    Given the name of the frame's display size, a photo that has that variant comes with it alone: it was rendered
    for the bucket holding the frame's screen, so it covers every cell, and turning the other specs of a 10,000-photo
    playlist into Python objects was most of a state's time. A photo without it comes with every variant, for
    choose_variant to pick the next-best one."""
    photos: dict[int, ShownPhoto] = {}
    for route in PLAYLIST_ROUTES:
        variants = Variant.objects.filter(**{f"photo__{route}": playlist}, photo__trashed_at__isnull=True).exclude(
            photo__status=Photo.Status.FAILED
        )
        if display_name:
            has_display = Variant.objects.filter(photo_id=OuterRef("photo_id"), name=display_name)
            variants = variants.filter(Q(name=display_name) | ~Exists(has_display))
        rows = variants.order_by().values_list(  # no sort: choose_variant picks by size, whatever the order
            "pk", "photo_id", "name", "file", "width", "height", "photo__width", "photo__height", "photo__status"
        )
        for pk, photo_id, name, file, width, height, photo_width, photo_height, status in rows:
            photo = photos.get(photo_id)
            if photo is None:
                photo = photos[photo_id] = ShownPhoto(photo_id, photo_width, photo_height, status)
            photo.variants_by_name[name] = ShownVariant(pk, name, file, width, height)
    return photos


def display_name_of(frame: Frame) -> str | None:
    """The name of the variant rendered for the frame's screen bucket, once the frame has reported its screen."""
    if frame.display_size is None:
        return None
    return display_spec(frame.display_size.width, frame.display_size.height).name


def choose_variant(
    photo: ShownPhoto, variants: list[ShownVariant], cell: tuple[int, int]
) -> tuple[ShownVariant | None, bool]:
    """The smallest variant that covers the cell, else the largest there is. Returns (variant, covers)."""
    if not variants or not photo.width or not photo.height:
        return None, False
    need_w, need_h = needed_size(photo.width, photo.height, *cell)
    # One pixel of slack: a variant rounded down when it was rendered still covers.
    covering = [v for v in variants if max(v.width, v.height) >= max(need_w, need_h) - 1]
    if covering:
        return min(covering, key=lambda v: v.width * v.height), True
    return max(variants, key=lambda v: v.width * v.height), False


URL_SAFE = "/~:@!$&'()*+,;="  # what reverse() leaves unquoted in a path


@functools.lru_cache(maxsize=8)
def _variant_url_prefix(script_prefix: str) -> str:
    return reverse("frame-variant", args=[0, "name"]).removesuffix("0/name")


def variant_url(variant: Variant | ShownVariant, prefix: str | None = None) -> str:
    # A slide list holds thousands of these: reverse() once per script prefix, then concatenate (as reverse quotes).
    prefix = prefix or _variant_url_prefix(get_script_prefix())
    return f"{prefix}{variant.pk}/{quote(variant.file.rsplit('/', 1)[-1], safe=URL_SAFE)}"


def _captions(playlist: Playlist, photos: list[ShownPhoto], zone: ZoneInfo) -> dict[int, str]:
    # Only albums the playlist follows: a caption never names an album the frame was not given.
    albums: dict[int, str] = {}
    for photo_id, name in (
        AlbumPhoto.objects.filter(album__playlist_links__playlist=playlist)
        .order_by("album__name", "album_id")
        .values_list("photo_id", "album__name")
    ):
        albums.setdefault(photo_id, name)
    taken: dict[int, datetime] = {}
    for route in PLAYLIST_ROUTES:
        taken.update(Photo.objects.filter(**{route: playlist}, taken_at__isnull=False).values_list("pk", "taken_at"))
    captions = {}
    for photo in photos:
        parts = []
        if photo.pk in taken:
            parts.append(date_format(taken[photo.pk].astimezone(zone), "j F Y"))
        if photo.pk in albums:
            parts.append(albums[photo.pk])
        captions[photo.pk] = " · ".join(parts)
    return captions


def _cell(screen: tuple[int, int], layout: str) -> tuple[int, int]:
    if layout == slides.STACKED:
        return screen[0], screen[1] // 2
    if layout == slides.SIDE_BY_SIDE:
        return screen[0] // 2, screen[1]
    return screen


@dataclass
class FrameState:
    message: dict  # what the slideshow gets, as JSON: no metadata beyond the caption, no original or API URLs
    screen: tuple[int, int]
    # Ready photos shown with a variant smaller than their cell (the frame shows the next-best one meanwhile).
    lacking: list[ShownPhoto] = field(default_factory=list)


def read_state(frame: Frame, *, now: datetime | None = None) -> FrameState:
    """Everything the slideshow needs now."""
    decision = program(frame, now)
    playlist = current_playlist(frame, decision)
    screen = screen_of(frame)
    message = {
        "type": "state",
        "frame": {"id": frame.pk, "name": frame.name},
        "blank": decision.blank,
        "playlist": None,
        "slides": [],
    }
    state = FrameState(message=message, screen=screen)
    if playlist is None:
        return state
    message["playlist"] = {
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
    photos = shown_photos(playlist, display_name_of(frame))
    ordered = [photos[pk] for pk in ids if pk in photos]
    layout = slides.pair([slides.Shape(p.pk, p.width, p.height) for p in ordered], portrait_frame=screen[1] > screen[0])
    captions = _captions(playlist, ordered, zone_of(frame)) if playlist.captions else {}
    url_prefix = _variant_url_prefix(get_script_prefix())
    for slide in layout:
        entries = []
        for photo_id in slide.ids:
            photo = photos[photo_id]
            variant, covers = choose_variant(photo, list(photo.variants_by_name.values()), _cell(screen, slide.layout))
            if variant is None:
                continue
            if not covers and photo.status == Photo.Status.READY:
                state.lacking.append(photo)
            entries.append(
                {
                    "id": photo.pk,
                    "src": variant_url(variant, url_prefix),
                    "width": variant.width,
                    "height": variant.height,
                    "caption": captions.get(photo.pk, ""),
                }
            )
        if entries:
            message["slides"].append(
                {"key": "-".join(str(e["id"]) for e in entries), "layout": slide.layout, "photos": entries}
            )
    return state


def frames_showing_playlists(playlist_ids: set[int]) -> list[int]:
    """Frames whose default playlist is one of these, or whose schedule may switch to one."""
    if not playlist_ids:
        return []
    return list(
        Frame.objects.filter(Q(playlist_id__in=playlist_ids) | Q(schedules__playlist_id__in=playlist_ids))
        .distinct()
        .values_list("pk", flat=True)
    )


def playlists_with_photos(photo_ids: list[int]) -> set[int]:
    direct = PlaylistItem.objects.filter(photo_id__in=photo_ids).values_list("playlist_id", flat=True)
    via_album = PlaylistAlbum.objects.filter(album__memberships__photo_id__in=photo_ids).values_list(
        "playlist_id", flat=True
    )
    return set(direct) | set(via_album)


def frames_showing_photos(photo_ids: list[int]) -> list[int]:
    return frames_showing_playlists(playlists_with_photos(photo_ids))


def frames_following_albums(album_ids: list[int]) -> list[int]:
    playlists = set(PlaylistAlbum.objects.filter(album_id__in=album_ids).values_list("playlist_id", flat=True))
    return frames_showing_playlists(playlists)


def playlists_of(frame: Frame) -> set[int]:
    """The playlists a frame shows now or may switch to by schedule."""
    ids = set(FrameSchedule.objects.filter(frame=frame, playlist__isnull=False).values_list("playlist_id", flat=True))
    if frame.playlist_id:
        ids.add(frame.playlist_id)
    return ids
