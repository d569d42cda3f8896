import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST

from gallery import storage
from gallery.forms import FirstAccountForm
from gallery.models import Photo
from gallery.services import UploadRejected, ingest_upload

PAGE_SIZE = 120
ORIGINAL_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
    "HEIF": "image/heic",
    "TIFF": "image/tiff",
}


def home(request):
    photos = Photo.objects.newest_first().prefetch_related("variants")
    page = Paginator(photos, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/home.html", {"page": page, "photos": page.object_list})


@dataclass
class UploadOutcome:
    name: str
    photo: Photo | None = None
    created: bool = False
    error: str = ""


@require_POST
def upload(request):
    files = request.FILES.getlist("files")  # parses the body; the upload handler notes oversized files
    outcomes = [
        UploadOutcome(name, error=f"The file is larger than the {settings.GLOWWORM_MAX_UPLOAD_MB} MB limit.")
        for name in getattr(request, "oversized_uploads", [])
    ]
    for upload_file in files:
        try:
            result = ingest_upload(upload=upload_file, user=request.user)
            outcomes.append(UploadOutcome(upload_file.name, photo=result.photo, created=result.created))
        except UploadRejected as exc:
            outcomes.append(UploadOutcome(upload_file.name, error=exc.message))
    if not outcomes:
        outcomes.append(UploadOutcome("", error="Choose at least one photo to upload."))

    if request.headers.get("HX-Request"):
        return render(request, "gallery/_upload_results.html", {"outcomes": outcomes}, status=_upload_status(outcomes))
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, f"{outcome.name}: {outcome.error}" if outcome.name else outcome.error)
        elif not outcome.created:
            messages.info(request, f"{outcome.name} is already in your library.")
    created = sum(outcome.created for outcome in outcomes)
    if created:
        messages.success(request, f"Uploaded {created} photo{pluralize(created)}.")
    return redirect("home")


def _upload_status(outcomes: list[UploadOutcome]) -> int:
    if any(outcome.created for outcome in outcomes):
        return 201
    if any(outcome.photo for outcome in outcomes):
        return 200
    if any("limit" in outcome.error for outcome in outcomes):
        return 413
    return 400


def photo_detail(request, pk):
    photo = get_object_or_404(Photo.objects.prefetch_related("variants"), pk=pk)
    return render(request, "gallery/photo.html", {"photo": photo})


def original(request, pk):
    photo = get_object_or_404(Photo, pk=pk)
    try:
        handle = open(storage.media_path(photo.original), "rb")
    except FileNotFoundError:
        raise Http404("The original file is missing.") from None
    extension = photo.original.rsplit(".", 1)[-1]
    name = photo.original_name or f"photo-{photo.pk}.{extension}"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=ORIGINAL_TYPES.get(photo.format))


def media(request, path):
    # Only rendered variants are served here; originals go through `original` as attachments.
    if not path.startswith("variants/"):
        raise Http404()
    try:
        file_path = storage.media_path(path)
        handle = open(file_path, "rb")
    except (ValueError, FileNotFoundError, IsADirectoryError):
        raise Http404() from None
    content_type = mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    # Variant names change on every render, so a name's content never changes.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@login_not_required
def setup(request):
    User = get_user_model()
    if User.objects.exists():
        return redirect("login")
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.is_staff = True
        user.is_superuser = True
        user.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Drop photos anywhere on this page to upload them.")
        return redirect("home")
    return render(request, "registration/setup.html", {"form": form})
