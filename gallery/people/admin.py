from django.contrib import admin

from gallery.people.models import Invite


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """For looking: invites are made, copied and revoked on the People page. The token is never shown."""

    list_display = ("note", "make_staff", "created_by", "created_at", "expires_at", "used_by", "revoked_at")
    exclude = ("nonce", "digest")
    readonly_fields = [f.name for f in Invite._meta.fields if f.name not in ("id", "nonce", "digest")]

    def has_add_permission(self, request):
        return False
