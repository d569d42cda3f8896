"""Response headers Django 5.2 does not set itself, and login rate limiting.

Content-Security-Policy: Glowworm's own pages load scripts and styles only from this origin (no inline script,
no eval: htmx runs with allowEval false), images from this origin plus data: URIs (the blurred placeholders),
and connect to this origin over HTTP and its websocket. Django's admin pages use inline styles and the django-rq
dashboard under /admin/rq/ uses inline scripts; those staff-only pages get a policy that allows them.

Login rate limiting counts failed logins in Django's cache per (username, client address) and per client
address. The default cache is per-process memory: Glowworm serves HTTP from one Daphne process, so one
counter sees every attempt, it needs no table or Redis round trip, and it still works when Redis is down. A
restart forgets the counts, which costs an attacker a restart they cannot cause. Locking per username+address
(not per username alone) means a stranger cannot lock the owner out of their own library.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousMultipartForm,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django_htmx.middleware import HtmxDetails


def content_security_policy(request) -> str:
    host = request.get_host()
    # 'self' covers ws: and wss: to the same host in current browsers; naming them helps older ones.
    connect = f"'self' ws://{host} wss://{host}"
    script = "'self'"
    style = "'self'"
    if request.path.startswith("/admin/"):
        style = "'self' 'unsafe-inline'"
        if request.path.startswith("/admin/rq/"):
            script = "'self' 'unsafe-inline'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script}",
            f"style-src {style}",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every response (SecurityMiddleware sets nosniff, Referrer-Policy and HSTS)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request))
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def client_address(request) -> str:
    if settings.SECURE_PROXY_SSL_HEADER:
        # Behind our reverse proxy the peer is the proxy; the address it appended last is the client's.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _key(*parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"glowworm:login-failures:{digest}"


def _keys(username: str, address: str) -> tuple[str, str]:
    return _key("user+address", username.strip().lower(), address), _key("address", address)


def _bump(key: str) -> None:
    window = settings.GLOWWORM_LOGIN_WINDOW
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def login_blocked(username: str, address: str) -> bool:
    pair, per_address = _keys(username, address)
    return (cache.get(pair) or 0) >= settings.GLOWWORM_LOGIN_FAILURES or (
        cache.get(per_address) or 0
    ) >= settings.GLOWWORM_LOGIN_FAILURES_PER_IP


def connect_receivers() -> None:
    """Called from GalleryConfig.ready()."""
    user_login_failed.connect(count_login_failure, dispatch_uid="glowworm-count-login-failure")
    user_logged_in.connect(forget_login_failures, dispatch_uid="glowworm-forget-login-failures")


def count_login_failure(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    pair, per_address = _keys(str(credentials.get("username", "")), client_address(request))
    _bump(pair)
    _bump(per_address)


def forget_login_failures(sender, request, user, **kwargs):
    if request is not None:
        cache.delete(_keys(user.get_username(), client_address(request))[0])


def _login_paths() -> set[str]:
    paths = set()
    for name in ("login", "admin:login"):
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            pass
    return paths


class LoginRateLimitMiddleware:
    """Answers 429 to a login POST after too many failures, before the password is even checked."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths: set[str] | None = None

    def __call__(self, request):
        if request.method == "POST":
            if self.paths is None:
                self.paths = _login_paths()
            if request.path in self.paths:
                username = request.POST.get("username", "")
                if login_blocked(username, client_address(request)):
                    return self.too_many(request)
        return self.get_response(request)

    def too_many(self, request):
        minutes = max(1, settings.GLOWWORM_LOGIN_WINDOW // 60)
        messages.error(
            request,
            f"Too many failed log-in attempts. Wait {minutes} minutes and try again, or ask the owner to reset "
            "your password.",
        )
        response = render(
            request,
            "registration/login.html",
            {"form": AuthenticationForm(request), "next": request.POST.get("next", "")},
            status=429,
        )
        response["Retry-After"] = str(settings.GLOWWORM_LOGIN_WINDOW)
        return response


def bad_request(request, exception=None):
    """handler400: say what was wrong with a malformed request (too many fields or files) instead of a bare
    "Bad Request", as JSON for the API and as an upload-result line for htmx."""
    if isinstance(exception, TooManyFieldsSent):
        message = f"The form has too many fields (more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
    elif isinstance(exception, TooManyFilesSent):
        message = f"Too many files in one request: send at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} at a time."
    elif isinstance(exception, RequestDataTooBig):
        message = "The request is too large."
    elif isinstance(exception, (MultiPartParserError, SuspiciousMultipartForm)):
        # Django refuses a part whose headers pass 1 KB: in practice, a file name thousands of characters long.
        message = "The upload could not be read: a file name is far too long, or the form is malformed."
    else:
        message = "The request was malformed."
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message}, status=400)
    if HtmxDetails(request):
        return HttpResponseBadRequest(
            format_html('<li class="upload-result upload-result--error" role="alert">{}</li>', message)
        )
    return HttpResponseBadRequest(
        format_html("<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{}</p>", message)
    )
