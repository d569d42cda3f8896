from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gallery.models import ApiToken


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (only its hash is stored; it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        _, plain = ApiToken.issue(user)
        self.stdout.write(plain)
