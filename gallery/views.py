from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Max, Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from gallery import albums as album_services
from gallery import favorites, first_account, library, permissions, storage, trash
from gallery.duplicates import dismiss, duplicate_groups
from gallery.files import clean_file_name
from gallery.filterbar import filter_bar, link
from gallery.forms import (
    AlbumForm,
    BulkForm,
    CoverForm,
    FirstAccountForm,
    KeepForm,
    NewAlbumForm,
    PhotoAlbumForm,
    PushedPhotosForm,
    RotateForm,
    SelectionForm,
    UploadAlbumForm,
)
from gallery.media import original_response, streaming_content, unavailable, variant_response
from gallery.models import Album, AlbumPhoto, Photo, Variant
from gallery.search import BOOLEANS, FilterError, PhotoFilter
from gallery.services import ingest_upload, rerender_photo, rotate_photo
from gallery.timeline import timeline as scrubber_links
from gallery.uploads import Refusal, UploadRejected
from processing import formats

PAGE_SIZE = library.PAGE_SIZE


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def trashed(request, photo_ids: list[int], text: str = "") -> None:
    """Say that photos went to the trash, with an Undo: their ids ride on the message (gallery/_toasts.html)."""
    count = len(photo_ids)
    text = text or f"Moved {count:,} photo{pluralize(count)} to the trash."
    messages.success(request, text, extra_tags="undo:" + ",".join(str(pk) for pk in sorted(photo_ids)))


def answer(request, *, photos=(), form=None, status: int = 200, **context):
    """What a script's POST gets back (gallery/_answer.html): this request's messages as toasts, the tiles of
    `photos` and the field errors of `form`, each marked for the script to place."""
    field_errors = [(name, errors) for name, errors in (form.errors.items() if form else []) if name != "__all__"]
    for error in form.non_field_errors() if form else []:
        messages.error(request, error)
    context.update(photos=photos, field_errors=field_errors)
    return render(request, "gallery/_answer.html", context, status=status)


def form_problems(request, form) -> None:
    """A form's errors as messages, for the answers that lead back to a page."""
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))


def read_filters(request) -> tuple[PhotoFilter, str]:
    """The page's filters from its query; a bad value gives no filters and the reason, to show above the grid."""
    try:
        return PhotoFilter.from_query(request.GET), ""
    except FilterError as exc:
        return PhotoFilter(), str(exc)


GRID_LAYOUTS = ("justified", "square")


def grid_layout(request) -> str:
    """The grid's layout, remembered in a cookie by the toggle above the grid (static/js/library.js)."""
    chosen = request.COOKIES.get("grid_layout", "")
    return chosen if chosen in GRID_LAYOUTS else GRID_LAYOUTS[0]


def home(request):
    filters, problem = read_filters(request)
    filtered = filters.apply(Photo.objects.all(), request.user)
    scope = favorites.with_favorites(filtered, request.user)
    more_url = link(reverse("home"), filters.query_string())
    context = {"more_url": more_url, "filters": filters}
    if request.htmx and "photos" in request.GET:
        return matching_tiles(request, scope)
    if request.htmx and request.GET.get("after"):
        # Scrolling up from a page opened at a cursor (a jump from the scrubber, a shared URL).
        context["page"] = library.newer_page(scope, cursor=request.GET["after"], page_size=PAGE_SIZE)
        return render(request, "gallery/_newer_page.html", context)
    page = library.library_page(scope, cursor=request.GET.get("before"), page_size=PAGE_SIZE)
    context["page"] = page
    if request.htmx and request.GET.get("before"):
        return render(request, "gallery/_library_page.html", context)
    totals = Photo.objects.aggregate(count=Count("id"), last_id=Max("id"))
    timeline = library.scrubber(filtered)
    jumped_to = page.groups[0].month if page.cursor and page.groups else None
    today = timezone.localdate()
    memories = [] if filters or page.cursor else library.on_this_day(Photo.objects.all(), today, limit=24)
    context.update(
        full_page=True,
        totals=totals,
        # Every photo has a library month (save() keeps it), so the timeline's counts add up to the matches.
        match_count=sum(year.count for year in timeline) if filters else totals["count"],
        albums=list(permissions.manageable_albums(request.user)),
        bar=filter_bar(filters, base_url=reverse("home"), problem=problem),
        timeline=scrubber_links(timeline, more_url=more_url, current=jumped_to),
        newer_cursor=library.Cursor(page.photos[0].sort_at, page.photos[0].pk) if page.cursor and page.photos else None,
        memories=[
            (years, list(photos)) for years, photos in groupby(memories, lambda p: today.year - p.taken_date.year)
        ],
        layout=grid_layout(request),
    )
    return render(request, "gallery/home.html", context, status=400 if problem else 200)


def matching_tiles(request, scope):
    """The tiles of pushed photos that a filtered library page would show: a push carries no filters, so the page
    asks (static/js/live.js) and places what comes back."""
    form = PushedPhotosForm(request.GET)
    if not form.is_valid():
        return answer(request, form=form, status=400)
    photos = library.grid_photos(scope).filter(pk__in=form.cleaned_data["photos"])
    response = render(request, "gallery/_tiles.html", {"photos": photos})
    # The page's "M of N photos match": new photos that do not match still grow the library.
    response["Glowworm-Library-Count"] = Photo.objects.count()
    return response


@dataclass
class UploadOutcome:
    name: str
    photo: Photo | None = None
    created: bool = False
    refusal: UploadRejected | None = None

    @property
    def error(self) -> str:
        return self.refusal.message if self.refusal else ""


@require_POST
def upload(request):
    files = request.FILES.getlist("files")  # parses the body; the upload handler notes oversized files
    album_form = UploadAlbumForm(request.POST)
    album = album_form.cleaned_data["album"] if album_form.is_valid() else None
    if album is not None and not permissions.may_manage_album(request.user, album):
        messages.info(request, f"Your photos went to the library: only the owner of {album} or staff can add to it.")
        album = None
    outcomes = [
        UploadOutcome(name, refusal=UploadRejected.too_large()) for name in getattr(request, "oversized_uploads", [])
    ]
    for upload_file in files:
        try:
            result = ingest_upload(upload=upload_file, user=request.user)
            outcomes.append(UploadOutcome(upload_file.name, photo=result.photo, created=result.created))
            if album is not None:
                album_services.add_photos(album=album, photo_ids=[result.photo.pk])
        except UploadRejected as exc:
            outcomes.append(UploadOutcome(upload_file.name, refusal=exc))
    if not outcomes:
        nothing = UploadRejected(Refusal.NO_FILE, "Choose at least one photo to upload.")
        outcomes.append(UploadOutcome("", refusal=nothing))

    if request.htmx:
        return render(request, "gallery/_upload_results.html", {"outcomes": outcomes}, status=_upload_status(outcomes))
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, f"{outcome.name}: {outcome.error}" if outcome.name else outcome.error)
        elif not outcome.created:
            messages.info(request, f"{outcome.name} is already in your library.")
    created = sum(outcome.created for outcome in outcomes)
    if created:
        messages.success(request, f"Uploaded {created} photo{pluralize(created)}.")
    return redirect(album.get_absolute_url() if album else "home")


def _upload_status(outcomes: list[UploadOutcome]) -> int:
    """201 if anything was added, 200 if all were already there, else the status of the first refusal."""
    if any(outcome.created for outcome in outcomes):
        return 201
    if any(outcome.photo for outcome in outcomes):
        return 200
    return next(outcome.refusal.status for outcome in outcomes if outcome.refusal)


def photo_detail(request, pk):
    """The photo view: a page, or the overlay's fragment (HX-Target: viewer) or its stage (HX-Target: photo-stage)."""
    photo = get_object_or_404(Photo.objects.prefetch_related("variants"), pk=pk)
    photo.is_favorite = favorites.is_favorite(user=request.user, photo=photo)
    album = None
    scope = Photo.objects.all()
    if request.GET.get("album", "").isdigit():
        album = Album.objects.filter(pk=request.GET["album"], memberships__photo=photo).first()
        if album is not None:
            scope = Photo.objects.filter(album_memberships__album=album)
    newer, older = library.neighbours(scope, photo)
    # The neighbours' previews are prefetched by the browser, so arrow keys feel instant.
    previews = Prefetch("variants", queryset=Variant.objects.filter(name="preview"))
    prefetch_related_objects([p for p in (newer, older) if p is not None], previews)
    in_albums = list(photo.albums.order_by("name"))
    manageable = list(permissions.manageable_albums(request.user))
    other_albums = [candidate for candidate in manageable if candidate not in in_albums]
    context_query = f"?album={album.pk}" if album else ""
    context = {
        "photo": photo,
        "album": album,
        "newer": newer,
        "older": older,
        "neighbours": [p for p in (older, newer) if p is not None],
        "in_albums": in_albums,
        "other_albums": other_albums,
        "manageable_album_ids": {album.pk for album in manageable},
        "can_change": permissions.may_change_photo(request.user, photo),
        "context_query": context_query,
        "here": photo.get_absolute_url() + context_query,
        "older_url": older.get_absolute_url() + context_query if older else "",
        "close_url": album.get_absolute_url() if album else reverse("home"),
    }
    target = request.headers.get("HX-Target") if request.htmx else None
    template = {"photo-stage": "gallery/_photo_stage.html", "viewer": "gallery/_lightbox.html"}.get(
        target, "gallery/photo.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])  # one URL, three answers: never cached as each other
    return response


def photo_download(request, pk):
    """ "Download as shown": the largest rendered version, upright and rotated as the photo view shows it (the
    original file is as it was uploaded, without Glowworm's rotation)."""
    photo = get_object_or_404(Photo.objects.prefetch_related("variants"), pk=pk)
    variant = max(photo.variants.all(), key=lambda v: v.width * v.height, default=None)
    if variant is None:
        raise Http404("This photo has not been rendered yet.")
    try:
        storage.check_name(variant.file, under="variants")
        handle = storage.open_file(variant.file, location=variant.location)
    except (ValueError, OSError):
        raise Http404("The rendered file is missing.") from None
    except storage.StorageUnavailable:
        return unavailable()
    stem = (clean_file_name(photo.original_name) or f"photo-{photo.pk}").rsplit(".", 1)[0]
    name = f"{stem} (as shown).{formats.extension(variant.format)}"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=formats.mime_type(variant.format))


@require_POST
def photo_rotate(request, pk):
    photo = permissions.photo_or_403(request.user, get_object_or_404(Photo, pk=pk))
    form = RotateForm(request.POST)
    if form.is_valid():
        rotate_photo(photo=photo, degrees=form.degrees)
        messages.success(request, "Rotating… the new version appears in a moment.")
    if request.htmx:
        return answer(request)
    return redirect(safe_next(request, photo.get_absolute_url()))


@require_POST
def photo_retry(request, pk):
    photo = get_object_or_404(Photo, pk=pk)
    rerender_photo(photo=photo)
    photo = favorites.with_favorites(Photo.objects.prefetch_related("variants"), request.user).get(pk=pk)
    if request.htmx and request.headers.get("HX-Target") != "viewer":
        return render(request, "gallery/_photo.html", {"photo": photo})
    if request.htmx:
        return answer(request)
    return redirect(safe_next(request, photo.get_absolute_url()))


def photo_delete(request, pk):
    """Move the photo to the trash (POST; the answer carries an Undo). GET asks first, for links from elsewhere."""
    photo = get_object_or_404(Photo.objects.prefetch_related("variants"), pk=pk)
    permissions.photo_or_403(request.user, photo)
    if request.method == "POST":
        _, older = library.neighbours(Photo.objects.all(), photo)
        trashed(request, trash.trash_photos(photo_ids=[photo.pk], user=request.user), f"Moved {photo} to the trash.")
        if request.htmx:
            return answer(request)
        default = older.get_absolute_url() if older else reverse("home")
        return redirect(safe_next(request, default))
    context = {"photo": photo, "next": safe_next(request, ""), "trash_days": settings.GLOWWORM_TRASH_DAYS}
    return render(request, "gallery/photo_delete.html", context)


@require_POST
def photo_albums(request, pk):
    """Add the photo to an album, or take it out of one (`remove`), from the photo view."""
    photo = get_object_or_404(Photo, pk=pk)
    form = PhotoAlbumForm(request.POST)
    if form.is_valid():
        album = permissions.album_or_403(request.user, form.cleaned_data["album"])
        if request.POST.get("remove"):
            album_services.remove_photos(album=album, photo_ids=[photo.pk])
            messages.success(request, f"Removed from {album}.")
        else:
            album_services.add_photos(album=album, photo_ids=[photo.pk])
            messages.success(request, f"Added to {album}.")
    if request.htmx:
        return answer(request, form=form, status=200 if form.is_valid() else 400)
    return redirect(safe_next(request, photo.get_absolute_url()))


@require_POST
def photo_favorite(request, pk):
    """Star or unstar the photo for this account (`favorite` 1 or 0): the stars on tiles and in the photo view."""
    photo = get_object_or_404(Photo, pk=pk)
    value = BOOLEANS.get(request.POST.get("favorite", "").strip().lower())
    if value is None:
        messages.error(request, "favorite: use 1, 0, true or false.")
        return answer(request, status=400) if request.htmx else redirect(safe_next(request, photo.get_absolute_url()))
    favorites.set_favorite(user=request.user, photo=photo, favorite=value)
    if request.htmx:
        return answer(request)
    return redirect(safe_next(request, photo.get_absolute_url()))


def album_list(request):
    form = NewAlbumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            album = album_services.create_album(name=form.cleaned_data["name"], owner=request.user)
        except album_services.AlbumNameTaken as exc:  # made by someone else a moment ago
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Created album {album}.")
            return redirect(album)
    return render(request, "gallery/albums.html", {"albums": album_services.albums_with_covers(), "form": form})


def album_detail(request, pk):
    album = get_object_or_404(Album, pk=pk)
    return _album_page(request, album, AlbumForm(instance=album))


def _album_page(request, album: Album, rename_form: AlbumForm, status: int = 200):
    scope = favorites.with_favorites(Photo.objects.filter(album_memberships__album=album), request.user)
    page = library.library_page(scope, cursor=request.GET.get("before"), page_size=PAGE_SIZE)
    context = {"page": page, "album": album, "more_url": album.get_absolute_url()}
    if request.htmx and request.GET.get("before"):
        return render(request, "gallery/_library_page.html", context)
    context.update(
        full_page=True,
        photo_count=AlbumPhoto.objects.filter(album=album).count_in_library(),
        albums=list(permissions.manageable_albums(request.user)),
        rename_form=rename_form,
        can_manage=permissions.may_manage_album(request.user, album),
        layout=grid_layout(request),
    )
    return render(request, "gallery/album.html", context, status=status)


@require_POST
def album_rename(request, pk):
    """Rename; a clash with another album's name (ignoring case) is answered at the field, the name kept."""
    album = permissions.album_or_403(request.user, get_object_or_404(Album, pk=pk))
    form = AlbumForm(request.POST, instance=Album.objects.get(pk=album.pk))
    if form.is_valid():
        try:
            album_services.rename_album(album=album, name=form.cleaned_data["name"])
        except album_services.AlbumNameTaken as exc:  # renamed by someone else a moment ago
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Renamed to {album}.")
            return redirect(album)
    album.refresh_from_db()
    return _album_page(request, album, form, status=400)


def album_add(request, pk):
    """ "Add photos" inside an album: the library's grid (keyset pages) to pick from; what is in the album already
    is marked. The selection goes to the bulk endpoint (action add), which leads back to the album."""
    album = permissions.album_or_403(request.user, get_object_or_404(Album, pk=pk))
    filters, problem = read_filters(request)
    base_url = reverse("album-add", args=[album.pk])
    scope = filters.apply(Photo.objects.all(), request.user)
    page = library.library_page(scope, cursor=request.GET.get("before"), page_size=PAGE_SIZE)
    members = AlbumPhoto.objects.filter(album=album, photo_id__in=[photo.pk for photo in page.photos])
    context = {
        "page": page,
        "album": album,
        "more_url": link(base_url, filters.query_string()),
        "member_ids": set(members.values_list("photo_id", flat=True)),
        "filters": filters,
    }
    if request.htmx and request.GET.get("before"):
        return render(request, "gallery/_library_page.html", context)
    context.update(
        full_page=True,
        total=Photo.objects.count(),
        bar=filter_bar(filters, base_url=base_url, problem=problem),
        layout=grid_layout(request),
    )
    return render(request, "gallery/album_add.html", context, status=400 if problem else 200)


def album_delete(request, pk):
    album = permissions.album_or_403(request.user, get_object_or_404(Album, pk=pk))
    if request.method == "POST":
        name = str(album)
        album_services.delete_album(album=album)
        messages.success(request, f"Deleted album {name}. Its photos are still in your library.")
        return redirect("albums")
    count = AlbumPhoto.objects.filter(album=album).count_in_library()
    return render(request, "gallery/album_delete.html", {"album": album, "photo_count": count})


@require_POST
def album_cover(request, pk):
    album = permissions.album_or_403(request.user, get_object_or_404(Album, pk=pk))
    form = CoverForm(request.POST)
    if form.is_valid():
        try:
            album_services.set_cover(album=album, photo=form.cleaned_data["photo"])
            messages.success(request, "Cover updated." if album.cover_id else "The cover now follows the newest photo.")
        except ValueError as exc:
            messages.error(request, str(exc))
    return redirect(safe_next(request, album.get_absolute_url()))


@require_POST
def bulk(request):
    """One endpoint for the selection toolbar: add to an album (or a new one), remove from one, cover, move to the
    trash, zip download. Scripts get toasts and field errors (`answer`); without JavaScript it redirects back."""
    form = BulkForm(request.POST, user=request.user)
    back = safe_next(request, reverse("home"))
    if not form.is_valid():
        if request.htmx:
            return answer(request, form=form, status=400)
        form_problems(request, form)
        return redirect(back)
    action, ids, album = form.cleaned_data["action"], form.cleaned_data["photo_ids"], form.cleaned_data["album"]
    if action == "download":
        return zip_response(request, ids)
    if album is not None and action in ("add", "remove", "cover"):
        permissions.album_or_403(request.user, album)
    if action == "new-album":
        try:
            album = album_services.create_album(name=form.cleaned_data["name"], owner=request.user)
        except album_services.AlbumNameTaken as exc:  # made by someone else a moment ago
            form.add_error("name", str(exc))
            if request.htmx:
                return answer(request, form=form, status=400)
            form_problems(request, form)
            return redirect(back)
        added = album_services.add_photos(album=album, photo_ids=ids)
        messages.success(request, f"Created the album {album} with {added:,} photo{pluralize(added)}.")
        if request.htmx:
            return answer(request, album=album)
        return redirect(album)
    if action == "add":
        added = album_services.add_photos(album=album, photo_ids=ids)
        messages.success(request, f"Added {added:,} photo{pluralize(added)} to {album}.")
    elif action == "remove":
        removed = album_services.remove_photos(album=album, photo_ids=ids)
        messages.success(
            request, f"Removed {removed:,} photo{pluralize(removed)} from {album}. They stay in the library."
        )
    elif action == "cover":
        try:
            album_services.set_cover(album=album, photo=Photo.objects.get(pk=ids[0]))
            messages.success(request, f"The cover of {album} is chosen.")
        except (ValueError, Photo.DoesNotExist) as exc:
            messages.error(request, str(exc))
    elif action == "delete":
        moved = trash.trash_photos(photo_ids=ids, user=request.user)
        trashed(request, moved)
        others = Photo.objects.filter(pk__in=ids).exclude(pk__in=moved).count()
        if others:
            messages.info(request, f"{others:,} of them {pluralize(others, 'is,are')} someone else's and stayed.")
    if request.htmx:
        return answer(request)
    return redirect(back)


def zip_response(request, photo_ids: list[int]) -> StreamingHttpResponse:
    photos = (
        Photo.objects.filter(pk__in=photo_ids)
        .order_by("id")
        .only("pk", "original", "original_location", "original_name", "taken_at", "created_at")
    )
    members = library.zip_members(photos)
    response = StreamingHttpResponse(
        streaming_content(request, library.zip_chunks(members)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="glowworm-{len(members)}-photos.zip"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def duplicates(request):
    if request.method == "POST":
        form = KeepForm(request.POST)
        if not form.is_valid():
            form_problems(request, form)
            return answer(request, status=400) if request.htmx else redirect("duplicates")
        group, keep = set(form.cleaned_data["group"]), set(form.cleaned_data["keep"])
        if form.cleaned_data["dismiss"]:
            dismiss(photo_ids=group)
            messages.success(request, "Marked as not duplicates: these photos will not be grouped again.")
        elif not keep & group:
            messages.error(request, "Keep at least one photo of the group.")
            return answer(request, status=400) if request.htmx else redirect("duplicates")
        elif not form.cleaned_data["confirmed"]:
            leaving = Photo.objects.filter(pk__in=group - keep).prefetch_related("variants")
            return render(request, "gallery/duplicates_confirm.html", {"form": form, "leaving": leaving})
        else:
            moved = trash.trash_photos(photo_ids=sorted(group - keep), user=request.user)
            trashed(request, moved, f"Kept {len(keep & group)}, moved {len(moved)} to the trash.")
            if len(moved) < len(group - keep):
                messages.info(request, "Photos someone else uploaded stayed: only they, or staff, can delete them.")
        return answer(request) if request.htmx else redirect("duplicates")
    groups = duplicate_groups()
    variants = Prefetch("variants", queryset=Variant.objects.filter(name__in=library.GRID_VARIANTS))
    photos = Photo.objects.filter(pk__in=[pk for group in groups for pk in group]).prefetch_related(variants).in_bulk()
    photo_groups = [[photos[pk] for pk in group if pk in photos] for group in groups]
    for group in photo_groups:
        for photo in group:
            photo.suggest_keep = photo is group[0]  # best to keep: most pixels, then oldest; the person decides
    # Rendered photos whose detail was never measured have no fingerprint yet: `reprocess --missing` measures them.
    unmeasured = Photo.objects.ready().filter(phash_detail__isnull=True).count()
    return render(request, "gallery/duplicates.html", {"groups": photo_groups, "unmeasured": unmeasured})


def original(request, pk):
    return original_response(get_object_or_404(Photo, pk=pk), request)


def media(request, path):
    # Only rendered variants are served here (variant_response checks); originals go through `original`.
    return variant_response(path, request=request)


def trash_page(request):
    """The trash: the same grid, each photo restorable, until GLOWWORM_TRASH_DAYS after it went in. Members see
    the photos they uploaded; staff see everyone's."""
    in_trash = _trash_of(request.user)
    page = library.library_page(in_trash, cursor=request.GET.get("before"), page_size=PAGE_SIZE)
    context = {"page": page, "more_url": reverse("trash")}
    if request.htmx and request.GET.get("before"):
        return render(request, "gallery/_library_page.html", context)
    context.update(full_page=True, trash_count=in_trash.count(), trash_days=settings.GLOWWORM_TRASH_DAYS)
    return render(request, "gallery/trash.html", context)


@require_POST
def trash_restore(request):
    """Bring photos back (the trash page, and every Undo). Scripts get the restored tiles, to put back in place."""
    form = SelectionForm(request.POST)
    back = safe_next(request, reverse("trash"))
    if not form.is_valid():
        form_problems(request, form)
        return answer(request, status=400) if request.htmx else redirect(back)
    restored = trash.restore_photos(photo_ids=form.cleaned_data["photo_ids"], user=request.user)
    messages.success(request, f"Restored {len(restored):,} photo{pluralize(len(restored))}.")
    if request.htmx:
        restored_photos = favorites.with_favorites(Photo.objects.filter(pk__in=restored), request.user)
        return answer(request, photos=library.grid_photos(restored_photos))
    return redirect(back)


@require_POST
def trash_purge(request):
    """Delete photos in the trash forever: after a confirmation that names the count (a page without JavaScript)."""
    form = SelectionForm(request.POST)
    if not form.is_valid():
        form_problems(request, form)
        return answer(request, status=400) if request.htmx else redirect("trash")
    ids = list(_trash_of(request.user).filter(pk__in=form.cleaned_data["photo_ids"]).values_list("pk", flat=True))
    if request.POST.get("confirmed") != "1":
        return render(request, "gallery/trash_confirm.html", {"ids": ids, "count": len(ids)})
    purged = trash.purge_photos(photo_ids=ids, user=request.user)
    messages.success(request, f"Deleted {purged:,} photo{pluralize(purged)} forever.")
    return answer(request) if request.htmx else redirect("trash")


def _trash_of(user):
    in_trash = Photo.all_objects.in_trash()
    return in_trash if user.is_staff else in_trash.filter(uploaded_by=user)


@permissions.staff_required
def trash_empty(request):
    """Empty the trash. The confirmation names the count; if the trash changed meanwhile, it asks again."""
    in_trash = Photo.all_objects.in_trash()
    count = in_trash.count()
    asked = request.POST.get("confirmed") == "1"
    if request.method == "POST" and asked and request.POST.get("count") == str(count):
        purged = trash.purge_photos(photo_ids=list(in_trash.values_list("pk", flat=True)))
        messages.success(request, f"Emptied the trash: deleted {purged:,} photo{pluralize(purged)} forever.")
        return answer(request) if request.htmx else redirect("trash")
    changed = asked and request.POST.get("count") != str(count)
    return render(request, "gallery/trash_confirm.html", {"count": count, "empty": True, "changed": changed})


@login_not_required
def setup(request):
    """The first account, for whoever holds the setup token (gallery/first_account.py); 403 for anyone else."""
    if first_account.account_exists():
        return redirect("login")
    token = request.POST.get("token") or request.GET.get("token") or ""
    if not first_account.token_is_valid(token):
        return render(request, "registration/setup_locked.html", status=403)
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = first_account.create_first_account(form=form, token=token)
        except first_account.SetupRefused:
            return render(request, "registration/setup_locked.html", status=403)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Drop photos anywhere on this page to upload them.")
        return redirect("home")
    return render(request, "registration/setup.html", {"form": form, "token": token})
