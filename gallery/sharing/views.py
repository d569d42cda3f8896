"""The share link's public pages (/s/<token>/...), and the album's Share page where links are made and revoked.

Everything a visitor reaches goes through the link: the album's grid, a photo's view, the thumbnails and previews
(by variant, checked to belong to a photo of the album), and downloads when the link allows them. Any other id, a
revoked or expired link, or a locked one answers 404 for files. Pages say nothing about GPS, cameras or file names.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from gallery import library, security, storage
from gallery.files import clean_file_name
from gallery.media import unavailable, variant_response
from gallery.models import Album, Variant
from gallery.permissions import album_or_403
from gallery.sharing import links
from gallery.sharing.forms import NewLinkForm, UnlockForm
from gallery.sharing.models import ShareLink
from processing import stripping
from processing.imaging import ImageRejected

PAGE_SIZE = library.PAGE_SIZE
# The renders a link shows: grid tiles and the photo view. Frame display sizes and originals are not among them.
SHARED_VARIANTS = ("thumb", "thumb2x", "preview")


def _live_or_404(token: str) -> ShareLink:
    link = links.live_link(token)
    if link is None:
        raise Http404("This link has expired or was turned off.")
    return link


def _unlocked_or_404(request, token: str) -> ShareLink:
    """For files: a live link whose password, if any, this browser has given."""
    link = _live_or_404(token)
    if not links.is_unlocked(request, link):
        raise Http404()
    return link


def _page(response):
    # Not for caches shared between people, nor for search engines; the link's Referer stays on this site
    # (Referrer-Policy: same-origin, gallery/security.py).
    patch_cache_control(response, private=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
def share_album(request, token):
    link = _live_or_404(token)
    if not links.is_unlocked(request, link):
        return _unlock(request, link)
    cursor = request.GET.get("before")
    page = library.library_page(links.photos(link), cursor=cursor, page_size=PAGE_SIZE)
    context = {"link": link, "base": link.get_absolute_url(), "page": page}
    if request.htmx and cursor:
        return _page(render(request, "sharing/_page.html", context))
    if not cursor:
        links.record_view(link)
    context.update(full_page=True, count=links.photos(link).count())
    return _page(render(request, "sharing/album.html", context))


def _unlock(request, link: ShareLink):
    form = UnlockForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        address = security.client_address(request)
        wait = security.login_wait(str(link.pk), address, scope="share")
        if wait:
            form.add_error(None, f"Too many wrong passwords. Try again in {max(1, wait // 60)} minutes.")
            status = 429
        elif links.password_matches(link, form.cleaned_data["password"]):
            response = redirect(link.get_absolute_url())
            links.unlock(response, link)
            return response
        else:
            security.count_failure(str(link.pk), address, scope="share")
            form.add_error("password", "That is not the password.")
            status = 403
    elif request.method == "POST":
        status = 400
    response = render(request, "sharing/unlock.html", {"link": link, "form": form}, status=status)
    if status == 429:
        response["Retry-After"] = str(wait)
    return _page(response)


@login_not_required
def share_photo(request, token, photo_id):
    link = _live_or_404(token)
    if not links.is_unlocked(request, link):
        return redirect(link.get_absolute_url())
    photo = links.photo(link, photo_id)
    if photo is None:
        raise Http404("This photo is not in the shared album.")
    newer, older = library.neighbours(links.photos(link), photo)
    context = {"link": link, "base": link.get_absolute_url(), "photo": photo, "newer": newer, "older": older}
    return _page(render(request, "sharing/photo.html", context))


@login_not_required
def share_variant(request, token, variant_id, name):
    link = _unlocked_or_404(request, token)
    variant = Variant.objects.filter(pk=variant_id, name__in=SHARED_VARIANTS).first()
    if variant is None or variant.basename != name or links.photo(link, variant.photo_id) is None:
        raise Http404()
    return variant_response(variant.file, variant.location, request)


@login_not_required
def share_download(request, token, photo_id):
    """The photo at full resolution without its metadata (processing/stripping.py), never the original file."""
    link = _unlocked_or_404(request, token)
    photo = links.photo(link, photo_id) if link.allow_download else None
    if photo is None:
        raise Http404()
    handle = tempfile.TemporaryFile()
    try:
        with storage.local_copy(photo.original, location=photo.original_location) as original:
            stripped = stripping.strip(
                original, photo.format, photo.rotation, handle, max_pixels=settings.GLOWWORM_MAX_PIXELS
            )
    except (OSError, ValueError, ImageRejected):
        handle.close()
        raise Http404("The photo's file is missing or unreadable.") from None
    except storage.StorageUnavailable:
        handle.close()
        return unavailable()
    handle.seek(0)
    name = f"{clean_file_name(link.album.name) or 'photo'}-{photo.pk}.{stripped.extension}"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=stripped.mime)
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True)
    return response


# --- the album's Share page (logged in) ------------------------------------------------------------------------


def _managed_album(request, pk) -> Album:
    return album_or_403(request.user, get_object_or_404(Album, pk=pk))


def album_share(request, pk):
    album = _managed_album(request, pk)
    form = NewLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        link = links.create_link(album=album, user=request.user, **form.cleaned_data)
        messages.success(request, "Made a new link. Copy it below and send it to whoever should see the album.")
        return redirect(f"{request.path}?new={link.pk}")
    revoked = None
    if request.GET.get("revoked", "").isdigit():
        revoked = album.share_links.filter(pk=request.GET["revoked"], revoked_at__isnull=False).first()
    new_id = request.GET.get("new", "")
    context = {
        "album": album,
        "form": form,
        "links": [
            (link, request.build_absolute_uri(link.get_absolute_url()), str(link.pk) == new_id)
            for link in links.links_of(album).select_related("created_by")
        ],
        "revoked": revoked,
    }
    status = 400 if form.errors else 200
    return render(request, "sharing/album_share.html", context, status=status)


@require_POST
def album_link_revoke(request, pk, link_id):
    album = _managed_album(request, pk)
    link = get_object_or_404(ShareLink, pk=link_id, album=album)
    links.revoke(link)
    return redirect(f"{album_share_url(album)}?revoked={link.pk}")


@require_POST
def album_link_restore(request, pk, link_id):
    album = _managed_album(request, pk)
    link = get_object_or_404(ShareLink, pk=link_id, album=album)
    links.restore(link)
    messages.success(request, "The link works again.")
    return redirect(album_share_url(album))


def album_share_url(album: Album) -> str:
    return reverse("album-share", args=[album.pk])
