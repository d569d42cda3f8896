import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the admin from DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL if set and absent."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip()
        if not username:
            return
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            return
        if not password:
            raise CommandError("DJANGO_SUPERUSER_USERNAME is set but DJANGO_SUPERUSER_PASSWORD is not.")
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            raise CommandError(f"DJANGO_SUPERUSER_PASSWORD is too weak: {' '.join(exc.messages)}") from None
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"Created admin account {username!r}.")
