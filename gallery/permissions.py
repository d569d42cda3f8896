"""Who may do what. Members upload, see the whole library, manage their own albums and trash (and purge) their own
photos; staff do everything, including frames, playlists, accounts and emptying the trash."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from gallery.models import Album, Photo


def may_manage_album(user, album: Album) -> bool:
    """Rename, delete, fill, empty, choose the cover, share: the album's owner, or staff."""
    return user.is_staff or (album.owner_id is not None and album.owner_id == user.pk)


def may_change_photo(user, photo: Photo) -> bool:
    """Move to the trash, restore, delete forever, rotate: the photo's uploader, or staff."""
    return user.is_staff or (photo.uploaded_by_id is not None and photo.uploaded_by_id == user.pk)


def manageable_albums(user):
    """The albums this user may fill: all for staff, their own for members (the pickers list these)."""
    albums = Album.objects.all()
    return albums if user.is_staff else albums.filter(owner_id=user.pk)


def album_or_403(user, album: Album) -> Album:
    if not may_manage_album(user, album):
        raise PermissionDenied("Only the album's owner or staff can change it.")
    return album


def photo_or_403(user, photo: Photo) -> Photo:
    if not may_change_photo(user, photo):
        raise PermissionDenied("Only the person who uploaded this photo, or staff, can change it.")
    return photo


def trashable_ids(user, photo_ids) -> list[int]:
    """Of these photos, those this user may move to the trash, restore or purge."""
    photos = Photo.all_objects.filter(pk__in=list(photo_ids))
    if not user.is_staff:
        photos = photos.filter(uploaded_by_id=user.pk)
    return list(photos.values_list("pk", flat=True))


def staff_required(view):
    """For staff-only pages (frames, playlists, people, emptying the trash): 403 for members."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only staff accounts can do this.")
        return view(request, *args, **kwargs)

    return wrapper
