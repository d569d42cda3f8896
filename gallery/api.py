"""The JSON API, on django-ninja (docs/architecture.md says why).

One contract for every endpoint: callers authenticate with the session (browsers, who must send the CSRF token) or
`Authorization: Bearer <token>` (scripts, no CSRF); every error is `{"error": "..."}` with 400, 401, 403, 404, 405,
413 or 415 (never 422 or `{"detail"}`); lists are `{"count", "page", "pages", "next", "results"}`.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import wraps
from typing import Annotated

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import re_path, register_converter
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security.base import AuthBase
from pydantic import Field

from gallery import albums, favorites, permissions, trash
from gallery.duplicates import duplicate_groups
from gallery.models import Album, ApiToken, Favorite, Photo
from gallery.search import FilterError, PhotoFilter
from gallery.services import ingest_upload
from gallery.uploads import Refusal, UploadRejected

PAGE_SIZE = 100
# Ids in URLs and bodies: what a database's BIGINT holds, in 18 digits (a longer number cannot be an id, and would
# overflow the database driver: a 500 rather than a 404).
MAX_ID = 10**18 - 1


class IdConverter:
    """`{id:pk}` in API paths: a positive integer of at most 18 digits; anything else is the JSON 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ApiError(Exception):
    """Answer {"error": message} with this status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _log_in_with_token(request: HttpRequest):
    """Make the Authorization header's token user the request's user, or raise ApiError (401)."""
    user = ApiToken.from_authorization(request.headers["Authorization"])
    if user is None:
        raise ApiError(401, "The API token is not valid.")
    request.user = user
    return user


def authenticate(request: HttpRequest):
    """The calling user: a Bearer token's, or the session's (with the CSRF token). Raises ApiError otherwise."""
    if ApiToken.bearer(request.headers.get("Authorization")):
        return _log_in_with_token(request)
    if request.user.is_authenticated:
        # Session callers are browsers: hold them to the same CSRF rules as forms.
        if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
            raise ApiError(403, "The CSRF token is missing or wrong.")
        return request.user
    raise ApiError(401, "Log in or send an API token (Authorization: Bearer ...).")


def accepts_api_token(view):
    """For non-API pages an API client needs too (variant files): a Bearer token, or the usual login."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if ApiToken.bearer(request.headers.get("Authorization")):
            try:
                _log_in_with_token(request)
            except ApiError as exc:
                return error_response(exc.status, exc.message)
        elif not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


class SessionOrToken(AuthBase):
    """For the OpenAPI schema, a bearer scheme; the session works as well (see authenticate)."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest):
        return authenticate(request)


def schema_view(view):
    """The OpenAPI schema is for callers who may use the API."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            authenticate(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        return view(request, *args, **kwargs)

    return wrapper


HEALTH_OPERATION = {
    "get": {
        "operationId": "healthz",
        "summary": "Health",
        "description": "Whether the database and Redis answer and how many render workers run (gallery/health.py); "
        "503 when something is missing. Open to anyone: a load balancer asks it.",
        "security": [],
        "responses": {
            str(status): {
                "description": description,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "database": {"type": "string"},
                                "redis": {"type": "string"},
                                "workers": {"type": "integer", "minimum": 0},
                            },
                            "required": ["database", "redis", "workers"],
                        }
                    }
                },
            }
            for status, description in ((200, "Healthy"), (503, "Not healthy"))
        },
    }
}

UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    },
}


class GlowwormAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """ninja's schema of the API's operations, plus the one JSON endpoint outside /api/: /healthz."""
        schema = super().get_openapi_schema(**kwargs)
        schema["paths"]["/healthz"] = HEALTH_OPERATION
        return schema


api = GlowwormAPI(
    title="Glowworm",
    version="1",
    description=(
        "Photos, albums, share links and duplicates. Authenticate with `Authorization: Bearer <token>` "
        "(`manage.py api_token NAME`) or the browser session with its CSRF token. Every error is "
        '`{"error": "..."}` with 400, 401, 403, 404, 405, 413 or 415; lists are '
        "`{count, page, pages, next, results}`."
    ),
    auth=SessionOrToken(),
    urls_namespace="api",
    openapi_url="/schema/",
    docs_url=None,
    docs_decorator=schema_view,
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(exc.status, exc.message)


@api.exception_handler(UploadRejected)
def _upload_rejected(request, exc: UploadRejected):
    return error_response(exc.status, exc.message)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    # ninja's locations start with where the value came from, then the parameter's name ("body", "body", "name"):
    # the field is what a caller needs.
    parts = [str(part) for part in first.get("loc", ())]
    while parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        parts.pop(0)
    where = ".".join(parts)
    message = first.get("msg", "The request is not valid.")
    return error_response(400, f"{where}: {message}" if where else message)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error_response(exc.status_code, str(exc))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(401, "Log in or send an API token (Authorization: Bearer ...).")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(404, str(exc) or "Not found.")


def urls(*routers: Router) -> list:
    """The API's URL patterns, with the endpoints of the nested apps' routers (the project's urls.py passes them:
    gallery never imports its nested apps), each answering unauthenticated callers with JSON 401 rather than the
    login redirect of LoginRequiredMiddleware, and unknown methods with a JSON 405 (after authentication, so an
    anonymous caller learns nothing about which methods a URL takes)."""
    for router in routers:
        api.add_router("", router)
    patterns, _, _ = api.urls
    for pattern in patterns:
        # ninja's empty index page stays as a name (the schema view reverses it), answering 404.
        view = _no_index if pattern.name == "api-root" else pattern.callback
        pattern.callback = _json_405(view)
    # Whatever else is under /api/ (an unknown path, an id that is not one) is the API's 404, not the site's page.
    return [*patterns, re_path(r"^[\s\S]*$", _no_route)]  # [\s\S]: a path may hold an encoded newline


def _no_index(request):
    try:
        authenticate(request)  # an anonymous caller gets 401, as everywhere under /api/
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    return error_response(404, "Nothing here: the API's schema is at /api/schema/.")


@csrf_exempt  # authenticate() holds session callers to CSRF, as ninja's own views do
@login_not_required
def _no_route(request, *args, **kwargs):
    try:
        authenticate(request)  # an anonymous caller gets 401, as everywhere under /api/
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    return error_response(404, "Nothing here: the API's schema is at /api/schema/.")


def _json_405(view):
    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        try:
            authenticate(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        refusal = error_response(405, f"{request.method} is not allowed here.")
        refusal["Allow"] = response["Allow"]
        return refusal

    return wrapper


# --- images -------------------------------------------------------------------------------------------------------


class VariantOut(Schema):
    name: str
    width: int
    height: int
    format: str
    url: str


class PhotoOut(Schema):
    id: int
    status: str
    error: str
    width: int
    height: int
    sha256: str
    caption: str
    taken_at: datetime | None
    trashed_at: datetime | None
    favorite: bool
    url: str
    variants: list[VariantOut]
    duplicate: bool | None = None
    restored: bool | None = None


class PhotoPage(Schema):
    count: int
    page: int
    pages: int
    next: int | None
    results: list[PhotoOut]


class ErrorOut(Schema):
    error: str


def with_favorite(photos, user):
    """Annotate `favorite`: whether the calling account starred each photo (one subquery, not one per photo)."""
    return photos.annotate(favorite=Exists(Favorite.objects.filter(photo=OuterRef("pk"), user_id=user.pk)))


def photo_json(photo: Photo) -> dict:
    return {
        "id": photo.pk,
        "status": photo.status,
        "error": photo.error,
        "width": photo.width,
        "height": photo.height,
        "sha256": photo.sha256,
        "caption": photo.caption,
        "taken_at": photo.taken_at,
        "trashed_at": photo.trashed_at,
        "favorite": bool(getattr(photo, "favorite", False)),
        "url": photo.get_absolute_url(),
        "variants": [
            {"name": v.name, "width": v.width, "height": v.height, "format": v.format, "url": v.url}
            for v in photo.variants.all()
        ],
    }


def page_of(queryset, page: int, serialize) -> dict:
    paginator = Paginator(queryset, PAGE_SIZE)
    try:
        current = paginator.page(page)
    except EmptyPage:
        raise ApiError(404, "No such page.") from None
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages,
        "next": current.next_page_number() if current.has_next() else None,
        "results": [serialize(item) for item in current.object_list],
    }


@api.get("/images/", response={200: PhotoPage, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut})
def list_images(
    request,
    status: Photo.Status | None = None,
    trashed: bool = False,
    page: int = 1,
    q: str | None = None,
    taken_after: str | None = None,
    taken_before: str | None = None,
    camera: str | None = None,
    album: str | None = None,
    favorite: str | None = None,
    orientation: str | None = None,
    format: str | None = None,
    sha256: str | None = None,
):
    """The library, newest first; `?trashed=1` lists the trash instead. The filters combine (gallery/search.py):
    `q` words (all must match the name, caption, camera, lens or an album name), `taken_after`/`taken_before` (ISO
    dates, inclusive, on the date taken), `camera`, `album` (id), `favorite`, `orientation` (landscape, portrait,
    square), `format`, `sha256` (exact)."""
    try:
        filters = PhotoFilter.from_query(request.GET)
    except FilterError as exc:
        raise ApiError(400, str(exc)) from None
    photos = Photo.all_objects.in_trash() if trashed else Photo.objects.all()
    photos = filters.apply(photos, request.user)
    if status:
        photos = photos.filter(status=status)
    photos = with_favorite(photos.newest_first().prefetch_related("variants"), request.user)
    return page_of(photos, page, photo_json)


@api.post(
    "/images/",
    response={
        200: PhotoOut,
        201: PhotoOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        503: ErrorOut,  # the photo store (a bucket) or the log-in check cannot be reached: nothing was stored
    },
    openapi_extra={"requestBody": UPLOAD_BODY},
)
def upload_image(request):
    """Upload one photo in the multipart field `file`: 201 with the new photo, or 200 with `"duplicate": true`."""
    files = request.FILES.getlist("file")  # parses the body; the upload handler notes oversized files
    if getattr(request, "oversized_uploads", None):
        raise UploadRejected.too_large()
    if len(files) != 1:
        raise UploadRejected(Refusal.NO_FILE, "Send exactly one file in the 'file' field.")
    result = ingest_upload(upload=files[0], user=request.user)
    body = photo_json(result.photo)
    if result.restored:
        return Status(200, dict(body, duplicate=True, restored=True))
    if not result.created:
        return Status(200, dict(body, duplicate=True))
    return Status(201, body)


MAX_HASHES_PER_CHECK = 1000
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class HashList(Schema):
    sha256: list[str]


class HeldPhoto(Schema):
    id: int
    trashed: bool


class HashCheck(Schema):
    existing: dict[str, HeldPhoto]
    missing: list[str]


@api.post("/images/check/", response={200: HashCheck, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut})
def check_images(request, body: HashList):
    """Which of these SHA-256 hashes (at most 1,000; hex, any case) the library holds, so a client uploads only
    the rest: `existing` maps each held hash to its photo (a photo in the trash counts: uploading it again restores
    it), `missing` lists the others, in the order asked. Members see the whole library, as everywhere."""
    if len(body.sha256) > MAX_HASHES_PER_CHECK:
        raise ApiError(
            400, f"sha256: at most {MAX_HASHES_PER_CHECK} hashes per request, not {len(body.sha256)}; send batches."
        )
    hashes = []
    for index, value in enumerate(body.sha256):
        value = value.strip().lower()
        if not SHA256_PATTERN.match(value):
            raise ApiError(400, f"sha256.{index}: a SHA-256 is 64 hexadecimal digits.")
        hashes.append(value)
    hashes = list(dict.fromkeys(hashes))
    held = Photo.all_objects.filter(sha256__in=hashes).values_list("sha256", "pk", "trashed_at")
    existing = {sha: {"id": pk, "trashed": trashed_at is not None} for sha, pk, trashed_at in held}
    return {"existing": existing, "missing": [sha for sha in hashes if sha not in existing]}


def _photo_or_404(pk: int, user) -> Photo:
    """The photo, in the library or in the trash."""
    photo = with_favorite(Photo.all_objects.prefetch_related("variants").filter(pk=pk), user).first()
    if photo is None:
        raise ApiError(404, "No photo with that id.")
    return photo


@api.get("/images/{id:pk}/", response={200: PhotoOut, 401: ErrorOut, 404: ErrorOut})
def get_image(request, pk: int):
    return photo_json(_photo_or_404(pk, request.user))


@api.delete(
    "/images/{id:pk}/", response={200: PhotoOut, 204: None, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def delete_image(request, pk: int, purge: bool = False):
    """Move the photo to the trash (200, `trashed_at` set; again: unchanged), or with `?purge=1` delete it forever
    from any state (204; its files go too)."""
    photo = _photo_or_404(pk, request.user)
    if not permissions.may_change_photo(request.user, photo):
        raise ApiError(403, "Only staff can delete other people's photos.")
    if purge:
        trash.purge_photos(photo_ids=[photo.pk], user=request.user)
        return HttpResponse(status=204)
    trash.trash_photos(photo_ids=[photo.pk], user=request.user)
    return photo_json(_photo_or_404(pk, request.user))


class PhotoChange(Schema):
    favorite: bool


@api.patch("/images/{id:pk}/", response={200: PhotoOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def change_image(request, pk: int, change: PhotoChange):
    """Star or unstar the photo for the calling account: `{"favorite": true|false}`."""
    photo = _photo_or_404(pk, request.user)
    favorites.set_favorite(user=request.user, photo=photo, favorite=change.favorite)
    return photo_json(_photo_or_404(pk, request.user))


@api.post("/images/{id:pk}/restore/", response={200: PhotoOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def restore_image(request, pk: int):
    """Bring the photo back from the trash (200, `trashed_at` null); a photo in the library is left as it is."""
    photo = _photo_or_404(pk, request.user)
    if not permissions.may_change_photo(request.user, photo):
        raise ApiError(403, "Only staff can restore other people's photos.")
    trash.restore_photos(photo_ids=[photo.pk], user=request.user)
    return photo_json(_photo_or_404(pk, request.user))


# --- duplicates ---------------------------------------------------------------------------------------------------


class DuplicateGroups(Schema):
    groups: list[list[int]]


@api.get("/duplicates/", response={200: DuplicateGroups, 401: ErrorOut})
def list_duplicates(request):
    """Groups of possible duplicates, each in best-to-keep order (most pixels, then oldest)."""
    return {"groups": duplicate_groups()}


# --- albums -------------------------------------------------------------------------------------------------------


class AlbumOut(Schema):
    id: int
    name: str
    count: int
    cover: int | None  # the cover photo's id: chosen, else the photo added last


class AlbumPage(Schema):
    count: int
    page: int
    pages: int
    next: int | None
    results: list[AlbumOut]


class AlbumIn(Schema):
    name: str


class PhotoIds(Schema):
    photos: list[Id]


class Added(Schema):
    added: int


class Removed(Schema):
    removed: int


def album_json(album: Album) -> dict:
    cover = album.cover_photo
    return {"id": album.pk, "name": album.name, "count": album.photo_count, "cover": cover.pk if cover else None}


def album_or_404(pk: int) -> Album:
    album = albums.albums_with_covers(Album.objects.filter(pk=pk))
    if not album:
        raise ApiError(404, "No album with that id.")
    return album[0]


def managed_album(request, pk: int) -> Album:
    album = album_or_404(pk)
    if not permissions.may_manage_album(request.user, album):
        raise ApiError(403, "Only the album's owner or staff can change it.")
    return album


def _album_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ApiError(400, "name: give the album a name.")
    if len(name) > Album._meta.get_field("name").max_length:
        raise ApiError(400, f"name: at most {Album._meta.get_field('name').max_length} characters.")
    return name


@api.get("/albums/", response={200: AlbumPage, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut})
def list_albums(request, page: int = 1):
    """Every album (the library is shared), by name, with its photo count and cover."""
    paginator_page = page_of(Album.objects.order_by("name", "id"), page, lambda album: album)
    paginator_page["results"] = [album_json(album) for album in albums.albums_with_covers(paginator_page["results"])]
    return paginator_page


@api.post("/albums/", response={201: AlbumOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut})
def create_album(request, body: AlbumIn):
    """A new album owned by the caller; a name in use (ignoring case) is 400."""
    try:
        album = albums.create_album(name=_album_name(body.name), owner=request.user)
    except albums.AlbumNameTaken as exc:
        raise ApiError(400, f"name: {exc}") from None
    return Status(201, album_json(album_or_404(album.pk)))


@api.get("/albums/{id:pk}/", response={200: AlbumOut, 401: ErrorOut, 404: ErrorOut})
def get_album(request, pk: int):
    return album_json(album_or_404(pk))


@api.patch("/albums/{id:pk}/", response={200: AlbumOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def rename_album(request, pk: int, body: AlbumIn):
    album = managed_album(request, pk)
    try:
        albums.rename_album(album=album, name=_album_name(body.name))
    except albums.AlbumNameTaken as exc:
        raise ApiError(400, f"name: {exc}") from None
    return album_json(album_or_404(pk))


@api.delete("/albums/{id:pk}/", response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def delete_album(request, pk: int):
    """The album goes; its photos stay in the library."""
    albums.delete_album(album=managed_album(request, pk))
    return HttpResponse(status=204)


@api.post("/albums/{id:pk}/photos/", response={200: Added, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def add_album_photos(request, pk: int, body: PhotoIds):
    return {"added": albums.add_photos(album=managed_album(request, pk), photo_ids=body.photos)}


@api.delete(
    "/albums/{id:pk}/photos/", response={200: Removed, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def remove_album_photos(request, pk: int, body: PhotoIds):
    return {"removed": albums.remove_photos(album=managed_album(request, pk), photo_ids=body.photos)}
