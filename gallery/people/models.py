from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from gallery import tokens

TOKEN_PURPOSE = "glowworm-invite"
INVITE_DAYS = 7


def _in_a_week():
    return timezone.now() + timedelta(days=INVITE_DAYS)


class InviteQuerySet(models.QuerySet):
    def pending(self, now=None):
        """Invites that can still make an account: not used, not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invite(models.Model):
    """A one-time, expiring link that lets one person make an account (gallery/people/invites.py). Staff make them;
    there is no open sign-up. The token is derived from SECRET_KEY and the nonce, so the People page can show the
    link again for copying, and the database holds only the nonce and the token's digest."""

    nonce = models.CharField(max_length=64, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(max_length=100, blank=True, help_text="Who it is for; only staff see it")
    make_staff = models.BooleanField(default=False, help_text="The new account is staff")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_in_a_week)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invited_by"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"invite {self.pk}" + (f" for {self.note}" if self.note else "")

    def get_absolute_url(self) -> str:
        return reverse("invite", args=[self.token])

    @property
    def token(self) -> str:
        return tokens.derived_token(TOKEN_PURPOSE, self.nonce)

    def is_pending(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
