"""Share links in the JSON API: /api/albums/<id>/links/ (mounted by glowworm/urls.py through gallery.api.urls)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from ninja import Router, Schema, Status

from gallery.api import ApiError, ErrorOut, managed_album
from gallery.sharing import links
from gallery.sharing.models import ShareLink

router = Router(tags=["share links"])


class LinkOut(Schema):
    id: int
    url: str  # the link's path, /s/<token>/
    expires_at: datetime | None
    allow_download: bool
    has_password: bool
    views: int
    created_at: datetime


class LinkList(Schema):
    results: list[LinkOut]


class LinkIn(Schema):
    expires_in_days: int | None = None
    allow_download: bool = False
    password: str | None = None


def link_json(link: ShareLink) -> dict:
    return {
        "id": link.pk,
        "url": link.get_absolute_url(),
        "expires_at": link.expires_at,
        "allow_download": link.allow_download,
        "has_password": link.has_password,
        "views": link.views,
        "created_at": link.created_at,
    }


@router.get("/albums/{id:pk}/links/", response={200: LinkList, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def list_links(request, pk: int):
    """The album's links that have not been revoked (expired ones too, with their expires_at)."""
    return {"results": [link_json(link) for link in links.links_of(managed_album(request, pk))]}


@router.post(
    "/albums/{id:pk}/links/", response={201: LinkOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def create_link(request, pk: int, body: LinkIn):
    """A new public, read-only link to the album: optionally expiring, password-protected, allowing downloads."""
    album = managed_album(request, pk)
    try:
        link = links.create_link(
            album=album,
            user=request.user,
            expires_in_days=body.expires_in_days,
            allow_download=body.allow_download,
            password=body.password or "",
        )
    except links.LinkRefused as exc:
        raise ApiError(400, str(exc)) from None
    return Status(201, link_json(link))


@router.delete("/albums/{id:pk}/links/{id:link_id}/", response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def revoke_link(request, pk: int, link_id: int):
    """The link stops working at once (404 for its visitors)."""
    album = managed_album(request, pk)
    link = links.links_of(album).filter(pk=link_id).first()
    if link is None:
        raise ApiError(404, "No share link with that id on this album.")
    links.revoke(link)
    return HttpResponse(status=204)
