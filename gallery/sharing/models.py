from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from gallery import tokens
from gallery.models import Album

TOKEN_PURPOSE = "glowworm-share"


class ShareLinkQuerySet(models.QuerySet):
    def live(self, now=None):
        """Links that still open: not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ShareLink(models.Model):
    """A public, read-only link to one album (gallery/sharing/links.py).

    The token is derived from SECRET_KEY and the nonce (gallery/tokens.py): the album page can show the link again
    for copying, the database holds only the nonce and the token's digest."""

    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="share_links")
    nonce = models.CharField(max_length=64, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # Django's password hash; empty: no password.
    password = models.CharField(max_length=128, blank=True, editable=False)
    allow_download = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Revoked links are kept (and answer 404) so a revoke can be undone from the album page.
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    views = models.PositiveIntegerField(default=0, editable=False)
    last_viewed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"share link {self.pk} of {self.album}"

    def get_absolute_url(self) -> str:
        return reverse("share", args=[self.token])

    @property
    def token(self) -> str:
        return tokens.derived_token(TOKEN_PURPOSE, self.nonce)

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
