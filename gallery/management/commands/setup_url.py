"""`python manage.py setup_url`: print the link that creates the first account (gallery/first_account.py)."""

from django.core.management.base import BaseCommand

from gallery import first_account


class Command(BaseCommand):
    help = (
        "Print the one-time link that creates the first account, while none exists. A new link replaces the old "
        "one unless --keep is given (compose's web service prints the link its migrate step made)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true", help="Print the current link instead of a new one")
        parser.add_argument("--base", help="The address people open (default GLOWWORM_PUBLIC_URL, else HOST:PORT)")

    def handle(self, *args, keep: bool, base: str | None, **options) -> None:
        token = first_account.setup_token(fresh=not keep)
        if token is None:
            self.stdout.write("An account exists already: log in, or add accounts in the admin.")
            return
        url = first_account.setup_url(token, base or first_account.public_base())
        self.stdout.write(f"Create the first account: {url}")
