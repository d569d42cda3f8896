from django.contrib import admin

from gallery.sharing.models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    """For looking: links are made, copied and revoked on the album's Share page. The token is never shown."""

    list_display = ("album", "created_by", "created_at", "expires_at", "revoked_at", "allow_download", "views")
    list_filter = ("allow_download",)
    search_fields = ("album__name",)
    readonly_fields = [f.name for f in ShareLink._meta.fields if f.name not in ("id", "nonce", "digest", "password")]
    exclude = ("nonce", "digest", "password")

    def has_add_permission(self, request):
        return False
