from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.urls import reverse

_OPEN_PREFIXES = ("/static/", "/healthz")


class FirstAccountMiddleware:
    """Until an account exists, every page leads to /setup/, which needs the setup token (gallery/first_account.py)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.account_exists = False  # once true it stays true for this process: no query per request

    def __call__(self, request):
        if not self.account_exists:
            self.account_exists = get_user_model().objects.exists()
            setup_url = reverse("setup")
            if not self.account_exists and request.path != setup_url and not request.path.startswith(_OPEN_PREFIXES):
                return redirect(setup_url)
        return self.get_response(request)
