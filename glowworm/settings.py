"""Glowworm settings, read from the environment.

Defaults run a laptop with no configuration (SQLite, media and a private Redis under
``var/``); production fails closed (no ``SECRET_KEY`` with ``DEBUG`` off is an error).
Every variable is listed in ``.env.example``.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from botocore.config import Config as BotoConfig
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_path(name: str, default: Path | None) -> Path | None:
    """A path from the environment; a relative one is taken from the project directory, wherever we run."""
    value = os.environ.get(name)
    return BASE_DIR / value if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def parse_sizes(name: str, value: str) -> list[tuple[int, int]]:
    sizes = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            width, height = (int(part) for part in item.lower().split("x"))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not WIDTHxHEIGHT") from None
        if width <= 0 or height <= 0:
            raise ImproperlyConfigured(f"{name}: {item!r} must be positive")
        sizes.append((width, height))
    return sizes


def database_from_url(url: str) -> dict:
    """sqlite:///relative/or/absolute/path or mysql://user:pass@host:port/name."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:////abs/path -> /abs/path; sqlite:///rel/path -> rel/path under BASE_DIR, as env_path does
        name = path[1:] if path.startswith("//") else str(BASE_DIR / path.lstrip("/"))
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # WAL lets Daphne, the workers and the page read while a render writes.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    if parts.scheme in ("mysql", "mariadb"):
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not sqlite or mysql")


VAR_DIR = env_path("GLOWWORM_VAR_DIR", BASE_DIR / "var")
SECRET_KEY_FILE = VAR_DIR / "secret_key"  # written by `make run`, so management commands beside it just work

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is required when DEBUG is off. `make run` creates one in {SECRET_KEY_FILE}; "
            "in production set it in the environment."
        )
    SECRET_KEY = "django-insecure-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "gallery",
    "gallery.frames",
    "gallery.sharing",
    "gallery.people",
    "processing",
]

MIDDLEWARE = [
    "gallery.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gallery.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gallery.middleware.FirstAccountMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "gallery.security.LoginRateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "glowworm.urls"
WSGI_APPLICATION = "glowworm.wsgi.application"
ASGI_APPLICATION = "glowworm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'glowworm.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media/"
# Behind nginx (deploy/nginx/, compose.yaml): the prefix of nginx's internal location for MEDIA_ROOT. Media views check
# access, then answer with an empty response and X-Accel-Redirect: <prefix><path under MEDIA_ROOT>, and nginx sends
# the file (gallery/media.py). Empty, the default: Django sends the file itself, as `make run` needs.
GLOWWORM_MEDIA_ACCEL_PREFIX = env("GLOWWORM_MEDIA_ACCEL_PREFIX")
if GLOWWORM_MEDIA_ACCEL_PREFIX and not (
    GLOWWORM_MEDIA_ACCEL_PREFIX.startswith("/") and GLOWWORM_MEDIA_ACCEL_PREFIX.endswith("/")
):
    raise ImproperlyConfigured(
        f"GLOWWORM_MEDIA_ACCEL_PREFIX must start and end with / (e.g. /protected-media/), not "
        f"{GLOWWORM_MEDIA_ACCEL_PREFIX!r}"
    )
# Media in an S3-compatible bucket (AWS, MinIO, Garage, Backblaze B2, Cloudflare R2): set AWS_STORAGE_BUCKET_NAME
# and originals and variants go there, nothing under MEDIA_ROOT (gallery/storage.py, docs/scaling.md). The names are
# django-storages' own. AWS_S3_CUSTOM_DOMAIN (host[:port]) is where browsers reach the bucket when that differs from
# the endpoint the app uses (compose: http://minio:9000 inside, localhost:9000 outside); AWS_S3_URL_PROTOCOL its
# scheme ("https:" unless said otherwise).
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL") or None
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID") or None
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY") or None
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME") or None
AWS_LOCATION = env("AWS_LOCATION").strip("/")
AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN")
AWS_S3_URL_PROTOCOL = env("AWS_S3_URL_PROTOCOL", "https:")
AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE") or None  # "path" for servers without bucket subdomains
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None  # objects stay private; browsers get presigned URLs
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = True  # names are generated and unique: no existence check before each write
AWS_S3_MAX_MEMORY_SIZE = 8 * 1024 * 1024  # reads larger than this spill to a temporary file
# A bucket that does not answer fails in seconds (an upload answers 503, a render retries), not after minutes.
AWS_S3_CLIENT_CONFIG = BotoConfig(
    connect_timeout=env_int("AWS_S3_CONNECT_TIMEOUT", 5),
    read_timeout=env_int("AWS_S3_READ_TIMEOUT", 60),
    retries={"max_attempts": 2, "mode": "standard"},
    signature_version="s3v4",
    s3={"addressing_style": AWS_S3_ADDRESSING_STYLE} if AWS_S3_ADDRESSING_STYLE else None,
)
# Media in the bucket: true (default) answers an allowed request with a redirect to a presigned URL; false makes the
# app stream the object itself (a bucket browsers cannot reach).
GLOWWORM_MEDIA_REDIRECT = env_bool("GLOWWORM_MEDIA_REDIRECT", True)
# Presigned URLs are made once per window of this many seconds and reused, so browsers' caches keep working.
GLOWWORM_MEDIA_URL_WINDOW = env_int("GLOWWORM_MEDIA_URL_WINDOW", 3600)
if GLOWWORM_MEDIA_URL_WINDOW < 60:
    raise ImproperlyConfigured("GLOWWORM_MEDIA_URL_WINDOW must be at least 60 seconds")
# WhiteNoise serves /static/ from STATIC_ROOT (filled by collectstatic, which `make run` runs): names carry a hash
# of their content, so browsers cache them for a year and an upgrade never leaves a stale script behind.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# `make dev` (DEBUG on) serves straight from the source folders and picks up edits without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads stream to disk in chunks; nothing is held whole in memory.
FILE_UPLOAD_HANDLERS = ["gallery.uploads.LimitedTemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env_path("FILE_UPLOAD_TEMP_DIR", None)
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_NUMBER_FILES = 20  # in one request (the page sends one per request); GLOWWORM_UPLOAD_PATHS follows it

# Redis serves RQ and the channel layer. `make run` starts a private server and sets this.
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
# JSON, never pickle, for job payloads (processing/worker.py says why). The render queues, in the order every
# worker listens to them (processing/jobs.py); "default" carries the periodic jobs and replaced-file deletions.
RQ_SERIALIZER = "rq.serializers.JSONSerializer"
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600, "SERIALIZER": RQ_SERIALIZER}
    for name in ("thumbs", "variants", "bulk", "default")
}
RQ = {"WORKER_CLASS": "processing.worker.GlowwormWorker"}
# The shared cache (login and pairing rate limits) lives in the same Redis, so every web process and host agrees.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "glowworm",
        "OPTIONS": {"socket_connect_timeout": 3, "socket_timeout": 5},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout by default, exactly channels-redis's 5 s blocking
        # receive: without a longer one, idle consumers die with "Timeout reading".
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "capacity": 500, "expiry": 30},
    }
}

# Security headers and cookies.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The token reaches htmx and fetch() through the page (hx-headers on <body>), so the cookie could be HttpOnly; it is
# left readable because HttpOnly would add nothing: a script that can read the cookie can read the page too.
CSRF_COOKIE_HTTPONLY = False
HTTPS = env_bool("GLOWWORM_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # health checks come over the internal network, in plain HTTP
if "GLOWWORM_BEHIND_PROXY" in os.environ:
    raise ImproperlyConfigured(
        "GLOWWORM_BEHIND_PROXY is gone: set GLOWWORM_TRUSTED_PROXIES to the proxy's addresses (CIDRs, e.g. "
        "10.0.0.0/8,127.0.0.1) or to the number of proxies in front of Glowworm."
    )
# Which peers may tell us the client's address (X-Forwarded-For) and scheme (X-Forwarded-Proto): gallery/proxies.py.
GLOWWORM_TRUSTED_PROXIES = env("GLOWWORM_TRUSTED_PROXIES")
# Read only when a trusted proxy sent it: gallery.proxies.TrustedProxyMiddleware drops it otherwise.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Glowworm's own settings.
# Where people reach this server (https://photos.example.com): the setup link `make run` prints uses it.
GLOWWORM_PUBLIC_URL = env("GLOWWORM_PUBLIC_URL")
# Served under a path prefix by the proxy (/photos): the prefix. Clients cannot set it (glowworm/daphne_tuning.py).
GLOWWORM_ROOT_PATH = env("GLOWWORM_ROOT_PATH")
GLOWWORM_MAX_UPLOAD_MB = env_int("GLOWWORM_MAX_UPLOAD_MB", 200)  # per file
# Request bodies are capped before Daphne reads them (glowworm/daphne_tuning.py, gallery/uploads.py): the paths that
# take photos get this many files of GLOWWORM_MAX_UPLOAD_MB (plus a small envelope), and only from a caller with a
# valid session or API token; every other request, and every anonymous one, GLOWWORM_MAX_BODY_KB.
GLOWWORM_UPLOAD_PATHS = {"/upload/": DATA_UPLOAD_MAX_NUMBER_FILES, "/api/images/": 1}
GLOWWORM_MAX_BODY_KB = env_int("GLOWWORM_MAX_BODY_KB", 1024)
if GLOWWORM_MAX_UPLOAD_MB < 1 or GLOWWORM_MAX_BODY_KB < 1:
    raise ImproperlyConfigured("GLOWWORM_MAX_UPLOAD_MB and GLOWWORM_MAX_BODY_KB must be at least 1")
# Days a photo stays in the trash before it is purged, files and all (gallery/trash.py).
GLOWWORM_TRASH_DAYS = env_int("GLOWWORM_TRASH_DAYS", 30)
GLOWWORM_MAX_PIXELS = env_int("GLOWWORM_MAX_PIXELS", 150_000_000)
# Display sizes pre-rendered for every photo. Frames get theirs anyway, for the photos they show (processing/jobs.py).
GLOWWORM_DISPLAY_SIZES = parse_sizes("GLOWWORM_DISPLAY_SIZES", env("GLOWWORM_DISPLAY_SIZES", ""))
GLOWWORM_DISPLAY_FORMAT = env("GLOWWORM_DISPLAY_FORMAT", "JPEG").upper()
if GLOWWORM_DISPLAY_FORMAT not in ("JPEG", "WEBP"):
    raise ImproperlyConfigured("GLOWWORM_DISPLAY_FORMAT must be JPEG or WEBP")
GLOWWORM_WORKERS = env_int("GLOWWORM_WORKERS", os.cpu_count() or 1)
# Daphne processes `make run` starts on one shared listening socket.
GLOWWORM_WEB_PROCESSES = env_int("GLOWWORM_WEB_PROCESSES", 2)
# Workers render at this lower CPU priority (nice), so pages and uploads stay quick during a drop.
GLOWWORM_WORKER_NICE = env_int("GLOWWORM_WORKER_NICE", 10)
# Self-healing renders (processing/jobs.py, processing/sweeper.py; see docs/operations-jobs.md).
GLOWWORM_RENDER_TIMEOUT = env_int("GLOWWORM_RENDER_TIMEOUT", 600)  # seconds one render may take
GLOWWORM_SWEEP_INTERVAL = env_int("GLOWWORM_SWEEP_INTERVAL", 30)  # seconds between sweeps
# Seconds a photo may wait when its job's liveness cannot be verified (a verifiably dead one is rescued at once).
GLOWWORM_STUCK_AFTER = env_int("GLOWWORM_STUCK_AFTER", 180)
GLOWWORM_RENDER_MAX_RESCUES = env_int("GLOWWORM_RENDER_MAX_RESCUES", 3)  # interrupted renders before "failed"
# A re-render's replaced files are deleted this many seconds later, so pages still showing them never break.
GLOWWORM_REPLACED_FILE_GRACE = env_int("GLOWWORM_REPLACED_FILE_GRACE", 600)
# Login rate limit (gallery/security.py): failures per username+network (and per username from anywhere, then a
# growing back-off), and per network (an IPv4 address or an IPv6 /64), in the window.
GLOWWORM_LOGIN_FAILURES = env_int("GLOWWORM_LOGIN_FAILURES", 5)
GLOWWORM_LOGIN_FAILURES_PER_IP = env_int("GLOWWORM_LOGIN_FAILURES_PER_IP", 30)
GLOWWORM_LOGIN_WINDOW = env_int("GLOWWORM_LOGIN_WINDOW", 900)  # seconds

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
