"""Response headers Django 5.2 does not set itself, and login rate limiting.

Content-Security-Policy: Glowworm's own pages load scripts and styles only from this origin (no inline script,
no eval: htmx runs with allowEval false), images from this origin plus data: URIs (the blurred placeholders),
and connect to this origin over HTTP and its websocket. Django's admin pages use inline styles and the django-rq
dashboard under /admin/rq/ uses inline scripts; those staff-only pages get a policy that allows them.

Login rate limiting counts failed logins in Django's cache, which is Redis (shared by every web process and host):
see the counters below. Client addresses come from gallery.proxies (trusted proxies only). When Redis is down,
logging in still works, without limits, and a warning is logged.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousMultipartForm,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import transaction
from django.db.models.signals import pre_save
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django_htmx.middleware import HtmxDetails

from gallery import storage
from gallery.proxies import client_network
from processing import events

logger = logging.getLogger(__name__)


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
    # Media in a bucket: allowed images redirect to presigned URLs there (gallery/media.py).
    media_origin = f" {origin}" if (origin := storage.public_origin()) else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script}",
            f"style-src {style}",
            f"img-src 'self' data: blob:{media_origin}",
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
    """The client's address (gallery.proxies.TrustedProxyMiddleware has already put it in REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "")


# --- login rate limiting --------------------------------------------------------------------------------------
# Three counters in the shared cache (Redis, so every web process and host sees the same counts):
# - per username and client network: a few failures, then that pair waits out the window;
# - per client network (IPv6 by /64): many usernames tried from one place;
# - per username from anywhere: after the same few failures, each further attempt waits a growing back-off
#   (BACKOFF_BASE seconds doubling, at most the window), so a botnet guessing one account gets a handful of tries
#   an hour while the owner is only delayed, never locked out for long.
BACKOFF_BASE = 30


def _key(*parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"glowworm:login:{digest}"


@dataclass(frozen=True)
class LoginKeys:
    pair: str
    network: str
    user: str
    user_wait: str

    @classmethod
    def of(cls, username: str, address: str, scope: str = "login") -> LoginKeys:
        """The counters of one account (scope "login"), or of another password-protected thing, such as a share
        link (scope "share", its id as the username), counted apart from the accounts."""
        name, network = username.strip().lower(), client_network(address)
        return cls(
            pair=_key(scope, "user+network", name, network),
            network=_key(scope, "network", network),
            user=_key(scope, "user", name),
            user_wait=_key(scope, "user-wait", name),
        )


def _count(key: str) -> int:
    window = settings.GLOWWORM_LOGIN_WINDOW
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def login_wait(username: str, address: str, scope: str = "login") -> int:
    """Seconds this login attempt must wait (0: go ahead)."""
    keys = LoginKeys.of(username, address, scope)
    try:
        counts = cache.get_many([keys.pair, keys.network])
        if counts.get(keys.pair, 0) >= settings.GLOWWORM_LOGIN_FAILURES:
            return settings.GLOWWORM_LOGIN_WINDOW
        if counts.get(keys.network, 0) >= settings.GLOWWORM_LOGIN_FAILURES_PER_IP:
            return settings.GLOWWORM_LOGIN_WINDOW
        until = cache.get(keys.user_wait)
    except Exception:  # the cache (Redis) is down: logging in still works, unlimited meanwhile
        logger.warning("Login rate limiting is off: the cache is unreachable", exc_info=True)
        return 0
    return max(0, math.ceil(until - time.time())) if until else 0


def count_login_failure(sender, credentials, request=None, **kwargs):
    if request is not None:
        count_failure(str(credentials.get("username", "")), client_address(request))


def count_failure(username: str, address: str, scope: str = "login") -> None:
    keys = LoginKeys.of(username, address, scope)
    try:
        _count(keys.pair)
        _count(keys.network)
        failures = _count(keys.user)
        if failures >= settings.GLOWWORM_LOGIN_FAILURES:
            beyond = failures - settings.GLOWWORM_LOGIN_FAILURES
            wait = min(BACKOFF_BASE * 2**beyond, settings.GLOWWORM_LOGIN_WINDOW)
            cache.set(keys.user_wait, time.time() + wait, timeout=wait)
    except Exception:
        logger.warning("Could not count a failed login: the cache is unreachable", exc_info=True)


def forget_login_failures(sender, request, user, **kwargs):
    if request is None:
        return
    keys = LoginKeys.of(user.get_username(), client_address(request))
    try:
        cache.delete_many([keys.pair, keys.user, keys.user_wait])
    except Exception:
        logger.warning("Could not clear login failures: the cache is unreachable", exc_info=True)


def connect_receivers() -> None:
    """Called from GalleryConfig.ready()."""
    user_login_failed.connect(count_login_failure, dispatch_uid="glowworm-count-login-failure")
    user_logged_in.connect(forget_login_failures, dispatch_uid="glowworm-forget-login-failures")
    user_logged_out.connect(close_sockets_on_logout, dispatch_uid="glowworm-close-sockets-on-logout")
    pre_save.connect(close_sockets_on_lost_access, sender=get_user_model(), dispatch_uid="glowworm-close-sockets")


# --- open websockets end with the access they were opened with ---------------------------------------------------


def close_sockets_on_logout(sender, request, user, **kwargs):
    if user is not None:
        user_id = user.pk
        transaction.on_commit(lambda: events.end_sessions(user_id), robust=True)


def close_sockets_on_lost_access(sender, instance, update_fields=None, **kwargs):
    """A user deactivated, given a new password or no longer staff: their open sockets close once that has
    committed (a socket checked the session and the role when it opened, not on every push)."""
    watched = {"is_active", "password", "is_staff"}
    if instance.pk is None or (update_fields is not None and not watched & set(update_fields)):
        return  # a new user, or a save that cannot change access (logging in writes last_login)
    before = sender.objects.filter(pk=instance.pk).values(*watched).first()
    if before is None:
        return
    lost = (before["is_active"] and not instance.is_active) or (before["is_staff"] and not instance.is_staff)
    if lost or before["password"] != instance.password:
        user_id = instance.pk
        transaction.on_commit(lambda: events.end_sessions(user_id), robust=True)


def _login_paths() -> set[str]:
    paths = set()
    for name in ("login", "admin:login"):
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            pass
    return paths


class LoginRateLimitMiddleware:
    """Answers 429 to a login POST that must wait, before the password is even checked."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths: set[str] | None = None

    def __call__(self, request):
        if request.method == "POST":
            if self.paths is None:
                self.paths = _login_paths()
            if request.path in self.paths:
                wait = login_wait(request.POST.get("username", ""), client_address(request))
                if wait:
                    return self.too_many(request, wait)
        return self.get_response(request)

    def too_many(self, request, wait: int):
        when = f"{math.ceil(wait / 60)} minutes" if wait >= 90 else f"{wait} seconds"
        messages.error(
            request,
            f"Too many failed log-in attempts. Wait {when} and try again, or ask the owner to reset your password.",
        )
        response = render(
            request,
            "registration/login.html",
            {"form": AuthenticationForm(request), "next": request.POST.get("next", "")},
            status=429,
        )
        response["Retry-After"] = str(wait)
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
