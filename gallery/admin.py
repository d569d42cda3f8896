from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.defaultfilters import filesizeformat, pluralize
from django.utils.html import format_html

from gallery import trash
from gallery.files import clean_file_name
from gallery.models import Album, ApiToken, DisplaySize, Photo, Variant
from processing import jobs
from processing.imaging import Metadata
from processing.specs import THUMBNAIL


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    can_delete = False
    fields = ("name", "width", "height", "format", "size", "file", "created_at")
    readonly_fields = fields

    @admin.display(description="Bytes")
    def size(self, variant):
        return f"{filesizeformat(variant.bytes)} ({variant.bytes:,} bytes)"

    def has_add_permission(self, request, obj=None):
        return False


METADATA_FIELDS = tuple(Metadata.__dataclass_fields__)  # what the renderer reads from a file


def _rerender(modeladmin, request, queryset, *, stages=None, what: str) -> None:
    outcomes = {"queued": 0, "busy": 0, "gone": 0}
    for photo_id in queryset.values_list("pk", flat=True):
        outcomes[jobs.requeue(photo_id, stages=stages, origin=jobs.BULK)] += 1
    queued, busy = outcomes["queued"], outcomes["busy"]
    text = f"Queued {what} for {queued} photo{pluralize(queued)}."
    if busy:
        text += f" {busy} {'was' if busy == 1 else 'were'} already queued or rendering."
    modeladmin.message_user(request, text, messages.SUCCESS)


@admin.action(description="Reprocess selected photos (all outputs)")
def reprocess_all(modeladmin, request, queryset):
    _rerender(modeladmin, request, queryset, what="a full render")


@admin.action(description="Reprocess selected photos (thumbnails only)")
def reprocess_thumbnails(modeladmin, request, queryset):
    _rerender(modeladmin, request, queryset, stages=[THUMBNAIL], what="new thumbnails")


@admin.action(description="Retry selected failed photos")
def retry_failed(modeladmin, request, queryset):
    failed = queryset.filter(status=Photo.Status.FAILED)
    skipped = queryset.count() - failed.count()
    _rerender(modeladmin, request, failed, what="a retry")
    if skipped:
        modeladmin.message_user(request, f"{skipped} selected photo{pluralize(skipped)} had not failed; left alone.")


@admin.action(description="Restore selected photos from the trash")
def restore_from_trash(modeladmin, request, queryset):
    restored = trash.restore_photos(photo_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(request, f"Restored {len(restored)} photo{pluralize(len(restored))} from the trash.")


class InTrashFilter(admin.SimpleListFilter):
    title = "in the trash"
    parameter_name = "trashed"

    def lookups(self, request, model_admin):
        return [("1", "In the trash"), ("0", "In the library")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(trashed_at__isnull=False)
        if self.value() == "0":
            return queryset.filter(trashed_at__isnull=True)
        return queryset


class PhotoAdminForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["original_name", "caption"]

    def clean_original_name(self):
        name = self.cleaned_data["original_name"]
        if name and clean_file_name(name) != name:
            raise forms.ValidationError(
                f"A file name only: no folders, colons, control characters or leading dots (e.g. "
                f"“{clean_file_name(name) or 'photo.jpg'}”)."
            )
        return name

    def clean_caption(self):
        return "\n".join(self.cleaned_data["caption"].splitlines())  # a browser sends \r\n; the importer stores \n


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    form = PhotoAdminForm
    list_display = ("thumbnail", "__str__", "status", "taken_at", "camera", "size", "created_at")
    list_display_links = ("thumbnail", "__str__")
    list_filter = [
        InTrashFilter,
        "status",
        "albums",
        "format",
        "camera_model",
        ("taken_at", admin.DateFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ("original_name", "caption", "camera_make", "camera_model")
    date_hierarchy = "created_at"
    inlines = [VariantInline]
    actions = [reprocess_all, reprocess_thumbnails, retry_failed, restore_from_trash]
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "preview",
                    "original_name",
                    "caption",
                    "status",
                    "error",
                    "format",
                    "file_size",
                    "width",
                    "height",
                    "rotation",
                    "uploaded_by",
                    "trashed_at",
                )
            },
        ),
        ("Metadata (read from the file)", {"fields": METADATA_FIELDS}),
        (
            "Storage",
            {"fields": ("key", "sha256", "phash", "original", "render_started_at", "created_at", "updated_at")},
        ),
    ]
    readonly_fields = ["preview", *(f.name for f in Photo._meta.fields if f.name not in PhotoAdminForm.Meta.fields)]

    @admin.display(description="")
    def thumbnail(self, photo):
        thumb = photo.variants_by_name.get("thumb")
        if thumb is None:
            return format_html('<span title="{}">{}</span>', photo.error, photo.get_status_display())
        scale = 80 / max(thumb.width, thumb.height, 1)
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="" loading="lazy">',
            thumb.url,
            round(thumb.width * scale),
            round(thumb.height * scale),
        )

    @admin.display(description="Preview")
    def preview(self, photo):
        variant = photo.variants_by_name.get("thumb2x") or photo.variants_by_name.get("thumb")
        if variant is None:
            return "No thumbnail yet."
        return format_html('<img src="{}" width="{}" height="{}" alt="">', variant.url, variant.width, variant.height)

    @admin.display(description="Camera", ordering="camera_model")
    def camera(self, photo):
        return photo.camera

    @admin.display(description="Size", ordering="file_size")
    def size(self, photo):
        return f"{photo.width} × {photo.height}, {filesizeformat(photo.file_size)}"

    def has_add_permission(self, request):
        return False  # photos arrive through uploads, which check and store them

    def get_queryset(self, request):
        # The admin sees the trash too (the "in the trash" filter tells them apart).
        return Photo.all_objects.prefetch_related("variants")

    def delete_model(self, request, obj):
        trash.trash_photos(photo_ids=[obj.pk], user=request.user)  # to the trash, as every delete

    def delete_queryset(self, request, queryset):
        trash.trash_photos(photo_ids=list(queryset.values_list("pk", flat=True)), user=request.user)


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ("name", "photo_count", "created_at", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")
    fields = ("name", "cover", "created_at", "updated_at")
    raw_id_fields = ("cover",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_count=Count("photos", distinct=True))

    @admin.display(description="Photos", ordering="photo_count")
    def photo_count(self, album):
        return album.photo_count


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "created_at", "last_used_at")
    readonly_fields = ("user", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False


@admin.register(DisplaySize)
class DisplaySizeAdmin(admin.ModelAdmin):
    list_display = ("width", "height", "created_at")
    readonly_fields = ("width", "height", "created_at")

    def has_add_permission(self, request):
        return False
