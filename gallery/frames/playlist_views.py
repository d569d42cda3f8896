"""Playlist pages: create, rename, settings, add (selection, album), reorder, remove, delete."""

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from gallery import library
from gallery.filterbar import link
from gallery.frames import playlists
from gallery.frames.forms import (
    IdListForm,
    MoveForm,
    PlaylistAlbumForm,
    PlaylistForm,
    PlaylistNameForm,
    PlaylistSelectionForm,
)
from gallery.frames.models import Playlist, PlaylistAlbum, PlaylistItem
from gallery.models import Album, Photo, Variant
from gallery.views import answer, form_problems, read_filters, safe_next


def playlist_list(request):
    form = PlaylistNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        playlist = playlists.create_playlist(name=form.cleaned_data["name"])
        messages.success(request, f"Created playlist {playlist}.")
        return redirect(playlist)
    rows = Playlist.objects.annotate(
        photo_count=Count("items", filter=Q(items__photo__trashed_at__isnull=True), distinct=True),
        album_count=Count("album_links", distinct=True),
    )
    return render(request, "frames/playlists.html", {"playlists": rows, "form": form})


def playlist_detail(request, pk):
    playlist = get_object_or_404(Playlist, pk=pk)
    form = PlaylistForm(request.POST or None, instance=playlist)
    if request.method == "POST" and form.is_valid():
        form.save()
        playlists.update_playlist(playlist=playlist)
        messages.success(request, "Saved the playlist settings.")
        return redirect(playlist)
    thumbs = Prefetch("photo__variants", queryset=Variant.objects.filter(name__in=library.GRID_VARIANTS))
    items = (
        PlaylistItem.objects.filter(playlist=playlist, photo__trashed_at__isnull=True)
        .select_related("photo")
        .prefetch_related(thumbs)
    )
    context = {
        "playlist": playlist,
        "form": form,
        "items": items,
        "followed": PlaylistAlbum.objects.filter(playlist=playlist)
        .select_related("album")
        .annotate(
            photo_count=Count("album__memberships", filter=Q(album__memberships__photo__trashed_at__isnull=True))
        ),
        "album_form": PlaylistAlbumForm(),
        "frames": playlist.frames.all(),
        # Every photo it shows: its own and those of the albums it follows, each once.
        "total": Photo.objects.filter(
            Q(playlist_items__playlist=playlist) | Q(album_memberships__album__playlist_links__playlist=playlist)
        )
        .distinct()
        .count(),
    }
    return render(request, "frames/playlist.html", context)


def playlist_add(request, pk):
    """Pick photos from the library (a page at a time) and append the selection."""
    playlist = get_object_or_404(Playlist, pk=pk)
    if request.method == "POST":
        form = IdListForm(request.POST)
        if form.is_valid():
            added = playlists.add_photos(playlist=playlist, photo_ids=form.cleaned_data["id"])
            messages.success(request, f"Added {added} photo{pluralize(added)} to {playlist}.")
        else:
            messages.error(request, "Select photos first.")
        return redirect(playlist)
    filters, problem = read_filters(request)
    scope = filters.apply(Photo.objects.ready(), request.user)
    page = library.library_page(scope, cursor=request.GET.get("before"), page_size=library.PAGE_SIZE)
    in_playlist = set(PlaylistItem.objects.filter(playlist=playlist).values_list("photo_id", flat=True))
    context = {
        "playlist": playlist,
        "page": page,
        "in_playlist": in_playlist,
        "albums": Album.objects.all(),
        "filters": filters,
        "problem": problem,
        "more_url": link(reverse("playlist-add", args=[playlist.pk]), filters.query_string()),
    }
    return render(request, "frames/playlist_add.html", context, status=400 if problem else 200)


def playlist_choices(request):
    """The <option>s of the library toolbar's playlist select, fetched when it is first opened: the library page
    itself reads no playlists."""
    return render(request, "frames/_playlist_options.html", {"playlists": Playlist.objects.all()})


@require_POST
def playlist_add_selection(request):
    """The library toolbar's "Add to playlist": appends the selection (ids, or everything a view shows)."""
    form = PlaylistSelectionForm(request.POST, user=request.user)
    if form.is_valid():
        playlist = form.cleaned_data["playlist"]
        added = playlists.add_photos(playlist=playlist, photo_ids=form.cleaned_data["photo_ids"])
        messages.success(request, f"Added {added:,} photo{pluralize(added)} to the playlist {playlist}.")
    if request.htmx:
        return answer(request, form=form, status=200 if form.is_valid() else 400)
    form_problems(request, form)
    return redirect(safe_next(request, "home"))


@require_POST
def playlist_albums(request, pk):
    playlist = get_object_or_404(Playlist, pk=pk)
    if request.POST.get("unfollow", "").isdigit():
        playlists.unfollow_album(playlist=playlist, album_id=int(request.POST["unfollow"]))
        messages.success(request, "The playlist no longer follows that album. Its photos stay in the library.")
        return redirect(playlist)
    form = PlaylistAlbumForm(request.POST)
    if form.is_valid():
        album = form.cleaned_data["album"]
        if form.cleaned_data["mode"] == "follow":
            playlists.follow_album(playlist=playlist, album=album)
            messages.success(request, f"The playlist now shows all of {album}, kept in sync.")
        else:
            added = playlists.copy_album(playlist=playlist, album=album)
            messages.success(request, f"Added {added} photo{pluralize(added)} from {album}.")
    else:
        messages.error(request, "Choose an album.")
    return redirect(playlist)


@require_POST
def playlist_reorder(request, pk):
    """The new order from drag and drop (all item ids, in order); answers 204 to script callers."""
    playlist = get_object_or_404(Playlist, pk=pk)
    form = IdListForm(request.POST)
    if form.is_valid():
        playlists.reorder(playlist=playlist, item_ids=form.cleaned_data["id"])
    if request.htmx:
        return HttpResponse(status=204 if form.is_valid() else 400)
    return redirect(playlist)


@require_POST
def playlist_move(request, pk):
    """Keyboard and no-script alternative to dragging: up, down, top, bottom."""
    playlist = get_object_or_404(Playlist, pk=pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        playlists.move(playlist=playlist, item_id=form.cleaned_data["item"], direction=form.cleaned_data["direction"])
    return redirect(f"{playlist.get_absolute_url()}#item-{request.POST.get('item', '')}")


@require_POST
def playlist_remove(request, pk):
    playlist = get_object_or_404(Playlist, pk=pk)
    form = IdListForm(request.POST)
    if form.is_valid():
        removed = playlists.remove_items(playlist=playlist, item_ids=form.cleaned_data["id"])
        messages.success(
            request, f"Removed {removed} photo{pluralize(removed)} from the playlist. They stay in the library."
        )
    return redirect(playlist)


def playlist_delete(request, pk):
    playlist = get_object_or_404(Playlist, pk=pk)
    if request.method == "POST":
        name = str(playlist)
        playlists.delete_playlist(playlist=playlist)
        messages.success(request, f"Deleted playlist {name}. Its photos are still in your library.")
        return redirect("playlists")
    context = {
        "object": playlist,
        "kind": "playlist",
        "cancel": playlist.get_absolute_url(),
        "frames": list(playlist.frames.all()),
    }
    return render(request, "frames/delete.html", context)
