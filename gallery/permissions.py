"""Who may do what. Members upload, see the whole library, manage their own albums and trash (and purge) their own
photos; staff do everything, including frames, playlists, accounts and emptying the trash."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from gallery.models import Album, Photo


def may_manage_album(user, album: Album) -> bool:
    return user.is_staff or (album.owner_id is not None and album.owner_id == user.pk)


def may_trash(user, photo: Photo) -> bool:
    return user.is_staff or (photo.uploaded_by_id is not None and photo.uploaded_by_id == user.pk)


def trashable_ids(user, photo_ids) -> list[int]:
    """Of these photos, those this user may move to the trash, restore or purge."""
    photos = Photo.all_objects.filter(pk__in=list(photo_ids))
    if not user.is_staff:
        photos = photos.filter(uploaded_by_id=user.pk)
    return list(photos.values_list("pk", flat=True))


def staff_required(view):
    """For staff-only pages (frames, playlists, people): 403 for members."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only staff accounts can do this.")
        return view(request, *args, **kwargs)

    return wrapper
