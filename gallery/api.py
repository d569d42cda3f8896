"""JSON API: session (with CSRF) or `Authorization: Bearer <token>`."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import EmptyPage, Paginator
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from gallery.models import ApiToken, Photo
from gallery.services import UploadRejected, delete_photo, ingest_upload

API_PAGE_SIZE = 100


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _log_in_with_token(request) -> JsonResponse | None:
    """Make the Authorization header's token user the request's user, or answer 401."""
    user = ApiToken.from_authorization(request.headers["Authorization"])
    if user is None:
        return error("The API token is not valid.", 401)
    request.user = user
    return None


def api_view(methods):
    def decorator(view):
        @login_not_required
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.headers.get("Authorization"):
                if rejection := _log_in_with_token(request):
                    return rejection
            elif request.user.is_authenticated:
                # Session callers are browsers: hold them to the same CSRF rules as forms.
                rejection = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                if rejection is not None:
                    return error("The CSRF token is missing or wrong.", 403)
            else:
                return error("Log in or send an API token (Authorization: Bearer ...).", 401)
            # After authentication: an anonymous caller learns nothing about which methods a URL takes.
            if request.method not in methods:
                response = error(f"{request.method} is not allowed here.", 405)
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def accepts_api_token(view):
    """For non-API pages an API client needs too (variant files): a Bearer token, or the usual login."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.headers.get("Authorization"):
            if rejection := _log_in_with_token(request):
                return rejection
        elif not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def photo_json(photo: Photo) -> dict:
    return {
        "id": photo.pk,
        "status": photo.status,
        "error": photo.error,
        "width": photo.width,
        "height": photo.height,
        "sha256": photo.sha256,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "url": photo.get_absolute_url(),
        "variants": [
            {"name": v.name, "width": v.width, "height": v.height, "format": v.format, "url": v.url}
            for v in photo.variants.all()
        ],
    }


@api_view(["GET", "POST"])
def images(request):
    if request.method == "POST":
        return _upload(request)
    photos = Photo.objects.newest_first().prefetch_related("variants")
    status = request.GET.get("status")
    if status:
        if status not in Photo.Status.values:
            return error(f"status must be one of {', '.join(Photo.Status.values)}.", 400)
        photos = photos.filter(status=status)
    paginator = Paginator(photos, API_PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, ValueError):
        return error("No such page.", 404)
    return JsonResponse(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "next": page.next_page_number() if page.has_next() else None,
            "results": [photo_json(photo) for photo in page.object_list],
        }
    )


def _upload(request):
    files = request.FILES.getlist("file")  # parses the body; the upload handler notes oversized files
    if getattr(request, "oversized_uploads", None):
        return error(f"The file is larger than the {settings.GLOWWORM_MAX_UPLOAD_MB} MB limit.", 413)
    if len(files) != 1:
        return error("Send exactly one file in the 'file' field.", 400)
    try:
        result = ingest_upload(upload=files[0], user=request.user)
    except UploadRejected as exc:
        return error(exc.message, exc.status)
    body = photo_json(result.photo)
    if not result.created:
        body["duplicate"] = True
        return JsonResponse(body, status=200)
    return JsonResponse(body, status=201)


@api_view(["GET", "DELETE"])
def image_detail(request, pk):
    photo = Photo.objects.prefetch_related("variants").filter(pk=pk).first()
    if photo is None:
        return error("No photo with that id.", 404)
    if request.method == "DELETE":
        delete_photo(photo=photo)
        return HttpResponse(status=204)
    return JsonResponse(photo_json(photo))
