"""Playlist writes. Every change tells the frames that show the playlist, after commit."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from gallery.frames import events, screens
from gallery.frames.models import Playlist, PlaylistAlbum, PlaylistItem
from gallery.frames.state import frames_showing_playlists
from gallery.models import AlbumPhoto, Photo


def create_playlist(*, name: str) -> Playlist:
    return Playlist.objects.create(name=name)


def _changed(playlist: Playlist) -> None:
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=timezone.now())
    playlist_id = playlist.pk
    transaction.on_commit(lambda: screens.tell_frames(frames_showing_playlists({playlist_id})), robust=True)


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
    frame_ids = frames_showing_playlists({playlist.pk})
    playlist.delete()
    transaction.on_commit(lambda: events.sync(frame_ids), robust=True)
