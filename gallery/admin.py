from django.contrib import admin

from gallery.models import ApiToken, Photo, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    can_delete = False
    readonly_fields = ("name", "width", "height", "format", "bytes", "file", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "taken_at", "camera_model", "width", "height", "created_at")
    list_filter = ("status", "format")
    search_fields = ("original_name", "camera_make", "camera_model")
    date_hierarchy = "created_at"
    inlines = [VariantInline]
    readonly_fields = [f.name for f in Photo._meta.fields if f.name not in ("original_name",)]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "created_at", "last_used_at")
    readonly_fields = ("user", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
