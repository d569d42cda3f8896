from django.contrib import admin

from gallery.frames.models import Frame, Playlist, PlaylistItem


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    raw_id_fields = ("photo",)
    fields = ("photo", "position", "added_at")
    readonly_fields = ("added_at",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "interval", "transition", "shuffle", "captions", "updated_at")
    search_fields = ("name",)
    inlines = [PlaylistItemInline]


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    """For looking, not steering: pairing, playlists and revocation live on the gallery's Frames page, which also
    pushes every change to the frame at once."""

    list_display = ("name", "playlist", "time_zone", "screen_width", "screen_height", "last_seen_at", "revoked_at")
    list_filter = ("playlist",)
    search_fields = ("name",)
    # The secret's digest is never shown, not even to staff.
    readonly_fields = [f.name for f in Frame._meta.fields if f.name not in ("id", "name", "secret_digest")]
    exclude = ("secret_digest",)

    def has_add_permission(self, request):
        return False
