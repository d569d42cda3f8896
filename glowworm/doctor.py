"""What `manage.py doctor` checks: each check returns a Finding with a one-line result and a fix in plain words.

Checks never raise: an unexpected exception becomes an error finding naming it. Checks that need Redis are
skipped (not failed) when Redis itself is unreachable, so the report names the cause once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django_rq
import PIL
import pillow_heif
from botocore.exceptions import ClientError
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings
from django.core import checks
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image, features
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry

from gallery import storage
from gallery.models import Location, Photo, Variant
from processing import imaging  # noqa: F401  (registers the HEIF opener, as the workers do)
from processing.jobs import current_specs
from processing.liveness import process_alive
from processing.sweeper import stuck_photo_ids

OK, WARN, ERROR, SKIP = "ok", "warn", "error", "skip"

# An idle rq worker heartbeats every worker_ttl - 15 s (405 s by default); its key expires after worker_ttl + 60.
HEARTBEAT_GRACE = timedelta(seconds=60)
MIN_FREE_BYTES = 1024**3
LOW_FREE_FRACTION = 0.05
EXAMPLES = 5
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@dataclass
class Finding:
    name: str
    status: str
    summary: str
    fix: str = ""
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Context:
    """State shared between checks: the Redis connection and what earlier checks learned."""

    stuck_after: timedelta = field(default_factory=lambda: default_stuck_after())
    redis: object | None = None
    redis_error: str = ""
    database_ok: bool = False


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def age_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def is_development() -> bool:
    """DEBUG on, or served only on this machine: HTTPS and cookie hardening do not apply."""
    return settings.DEBUG or not public_hosts()


def public_hosts() -> list[str]:
    return [host for host in settings.ALLOWED_HOSTS if host not in LOOPBACK_HOSTS]


# --- settings -------------------------------------------------------------------------------------------------


def check_settings(context: Context) -> Finding:

    problems: list[tuple[str, str, str]] = []  # (status, what, fix)
    hosts = public_hosts()
    if settings.DEBUG and hosts:
        problems.append(
            (
                ERROR,
                f"DEBUG is on while serving {', '.join(hosts)}: error pages show code and settings to anyone",
                "Unset DEBUG (or DEBUG=false) in the environment of the server.",
            )
        )
    weak_key = settings.SECRET_KEY.startswith("django-insecure") or len(set(settings.SECRET_KEY)) < 5
    if weak_key and hosts:
        problems.append(
            (
                ERROR,
                "SECRET_KEY is the development key or too short: sessions and tokens can be forged",
                "Set SECRET_KEY to a long random value: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            (
                WARN,
                "ALLOWED_HOSTS contains '*': any Host header is accepted",
                "Set ALLOWED_HOSTS to the names this server is reached by.",
            )
        )
    if hosts and not settings.DEBUG and not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        problems.append(
            (
                WARN,
                "session and CSRF cookies are sent over plain HTTP",
                "Serve Glowworm over HTTPS (compose's proxy) and set GLOWWORM_HTTPS=true, with "
                "GLOWWORM_TRUSTED_PROXIES set to the proxy (docs/security.md).",
            )
        )
    deploy = not is_development()
    messages = checks.run_checks(include_deployment_checks=deploy)
    for message in messages:
        if message.is_silenced() or message.level < checks.WARNING:
            continue
        status = ERROR if message.is_serious() else WARN
        problems.append((status, f"{message.id}: {message.msg}", message.hint or "See Django's check framework docs."))

    if settings.DEBUG:
        mode = "DEBUG on"
    elif not hosts:
        mode = "served only on this machine"
    else:
        mode = f"production ({', '.join(hosts)})"
    details = {"mode": mode, "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS, "problems": []}
    details["problems"] = [{"status": s, "problem": p, "fix": f} for s, p, f in problems]
    check_name = "check --deploy" if deploy else "check"
    if not problems:
        return Finding("settings", OK, f"{mode}; Django {check_name}: no issues", details=details)
    worst = ERROR if any(s == ERROR for s, _, _ in problems) else WARN
    first = problems[0] if worst == WARN else next(p for p in problems if p[0] == ERROR)
    summary = f"{mode}; {plural(len(problems), 'problem')}: {first[1]}"
    if len(problems) > 1:
        summary += f" (and {len(problems) - 1} more, see --json)"
    return Finding("settings", worst, summary, fix=first[2], details=details)


# --- database -------------------------------------------------------------------------------------------------


def check_database(context: Context) -> Finding:

    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        if connection.vendor == "sqlite":
            fix = (
                f"The SQLite file is {connection.settings_dict['NAME']}: its folder must exist and be writable "
                "(make run creates it), or fix DATABASE_URL."
            )
        else:
            fix = "Check DATABASE_URL and that the database server is running and accepts this user."
        return Finding(
            "database",
            ERROR,
            f"cannot connect to the {connection.vendor} database: {exc.__class__.__name__}: {exc}",
            fix=fix,
        )
    context.database_ok = True
    version = ".".join(str(part) for part in connection.get_database_version())
    name = connection.display_name
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    details = {
        "vendor": connection.vendor,
        "version": version,
        "unapplied": [f"{m.app_label}.{m.name}" for m, _ in plan],
    }
    if plan:
        return Finding(
            "database",
            ERROR,
            f"{name} {version}: {plural(len(plan), 'migration')} not applied ({details['unapplied'][0]}…)",
            fix="Run: python manage.py migrate",
            details=details,
        )
    return Finding("database", OK, f"{name} {version}, all migrations applied", details=details)


# --- disk -----------------------------------------------------------------------------------------------------


def _directory_problem(label: str, path: Path) -> tuple[str, str, str] | None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return ERROR, f"{label} {path} is not writable ({exc.strerror or exc})", f"Let the server's user write {path}."
    usage = shutil.disk_usage(path)
    if usage.free < MIN_FREE_BYTES // 10:
        return ERROR, f"{label} {path} has only {usage.free // 2**20} MB free", f"Free disk space on {path}."
    if usage.free < MIN_FREE_BYTES or usage.free < usage.total * LOW_FREE_FRACTION:
        return WARN, f"{label} {path} is low on space ({usage.free // 2**20} MB free)", f"Free disk space on {path}."
    return None


def check_disk(context: Context) -> Finding:
    media = Path(settings.MEDIA_ROOT)
    temporary = Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())
    # With a bucket, nothing is written under MEDIA_ROOT: only the temporary folder matters (check_bucket).
    media_problem = None if storage.bucket_configured() else _directory_problem("media", media)
    problems = [p for p in (media_problem, _directory_problem("temp", temporary)) if p]
    details = {
        "media_root": str(media),
        "media_free_bytes": shutil.disk_usage(media).free if media.exists() else None,
        "temp_dir": str(temporary),
        "temp_free_bytes": shutil.disk_usage(temporary).free if temporary.exists() else None,
    }
    if problems:
        status = ERROR if any(p[0] == ERROR for p in problems) else WARN
        return Finding("disk", status, "; ".join(p[1] for p in problems), fix=" ".join(p[2] for p in problems))

    def gigabytes(value):
        return f"{value / 1024**3:.1f} GB"

    summary = (
        "media in the bucket (see below); "
        if storage.bucket_configured()
        else f"media {media} writable, {gigabytes(details['media_free_bytes'])} free; "
    ) + f"temp {temporary} writable, {gigabytes(details['temp_free_bytes'])} free"
    return Finding("disk", OK, summary, details=details)


# --- Pillow ---------------------------------------------------------------------------------------------------


def check_pillow(context: Context) -> Finding:

    extensions = Image.registered_extensions()
    formats = {
        "WEBP": features.check("webp"),
        "AVIF": features.check("avif"),
        "HEIC": extensions.get(".heic") == "HEIF",
    }
    turbo = features.check_feature("libjpeg_turbo")
    jpeg_version = features.version("jpg")
    details = {"pillow": PIL.__version__, "formats": formats, "libjpeg": jpeg_version, "libjpeg_turbo": turbo}
    if formats["HEIC"]:
        details["pillow_heif"] = pillow_heif.__version__
    enabled = ", ".join(name for name, on in formats.items() if on) or "none"
    jpeg = f"libjpeg-turbo {features.version_feature('libjpeg_turbo')}" if turbo else f"libjpeg {jpeg_version}"
    summary = f"Pillow {PIL.__version__}: {enabled}; {jpeg}"

    needed = {spec.format for spec in current_specs()}
    if "WEBP" in needed and not formats["WEBP"]:
        return Finding(
            "pillow",
            ERROR,
            summary + " - WebP is missing and thumbnails are WebP",
            fix="Reinstall Pillow from its wheel: pip install --force-reinstall -r requirements.txt",
            details=details,
        )
    missing = [name for name, on in formats.items() if not on]
    if missing or not turbo:
        what = [f"{', '.join(missing)} uploads will be rejected"] if missing else []
        if not turbo:
            what.append("JPEG decoding is slow without libjpeg-turbo")
        return Finding(
            "pillow",
            WARN,
            f"{summary} - {'; '.join(what)}",
            fix="Install Pillow and pillow-heif from their wheels: pip install --force-reinstall -r requirements.txt",
            details=details,
        )
    return Finding("pillow", OK, summary, details=details)


# --- Redis ----------------------------------------------------------------------------------------------------


def redis_connection(queue: str = "default"):

    connection = django_rq.get_connection(queue)
    # Fail in seconds, not minutes, when the server is unreachable.
    connection.connection_pool.connection_kwargs.update(socket_connect_timeout=3, socket_timeout=5)
    return connection


def check_redis(context: Context) -> Finding:
    url = redacted(settings.RQ_QUEUES["default"].get("URL") or settings.REDIS_URL)
    try:
        connection = redis_connection()
        started = time.perf_counter()
        connection.ping()
        round_trip = time.perf_counter() - started
        info = connection.info()
    except Exception as exc:
        context.redis_error = f"{exc.__class__.__name__}: {exc}"
        return Finding(
            "redis",
            ERROR,
            f"Redis at {url} is unreachable ({context.redis_error}); uploads cannot be queued and pages get no updates",
            fix="Start Redis (make run starts its own) or fix REDIS_URL; then restart the web server and workers.",
            details={"url": url},
        )
    context.redis = connection
    try:
        policy = connection.config_get("maxmemory-policy").get("maxmemory-policy") or info.get("maxmemory_policy")
    except Exception:  # managed Redis often disables CONFIG
        policy = info.get("maxmemory_policy")
    maxmemory = int(info.get("maxmemory") or 0)
    server = "valkey" if "valkey_version" in info else "redis"
    version = info.get("valkey_version") or info.get("redis_version")
    details = {
        "url": url,
        "server": f"{server} {version}",
        "round_trip_ms": round(round_trip * 1000, 2),
        "used_memory": info.get("used_memory"),
        "maxmemory": maxmemory,
        "maxmemory_policy": policy,
    }
    summary = f"{server} {version} at {url}, round trip {round_trip * 1000:.1f} ms, maxmemory-policy {policy}"
    if policy and policy != "noeviction":
        limit = f"maxmemory is {maxmemory // 2**20} MB" if maxmemory else "no maxmemory is set yet"
        return Finding(
            "redis",
            WARN,
            f"{summary}: when memory is full Redis may evict queued jobs ({limit})",
            fix="Set maxmemory-policy noeviction in the Redis configuration (CONFIG SET maxmemory-policy noeviction).",
            details=details,
        )
    return Finding("redis", OK, summary, details=details)


def use_private_redis_if_running() -> str | None:
    """`make run` starts a private Redis on a socket under VAR_DIR and tells only its children (REDIS_URL).

    When this process was given no REDIS_URL and that socket exists, look there instead of at the default
    localhost:6379, so `manage.py doctor` beside `make run` checks the Redis that is actually in use.
    """
    if os.environ.get("REDIS_URL") or settings.REDIS_URL != "redis://127.0.0.1:6379/0":
        return None
    socket_path = Path(settings.VAR_DIR) / "redis" / "valkey.sock"
    if not socket_path.is_socket():
        return None
    url = f"unix://{socket_path}"

    settings.REDIS_URL = url
    settings.RQ_QUEUES = {name: dict(config, URL=url) for name, config in settings.RQ_QUEUES.items()}
    settings.CACHES = {"default": dict(settings.CACHES["default"], LOCATION=url)}
    settings.CHANNEL_LAYERS = {
        "default": dict(
            settings.CHANNEL_LAYERS["default"], CONFIG=dict(settings.CHANNEL_LAYERS["default"]["CONFIG"], hosts=[url])
        )
    }
    channel_layers.backends.clear()
    return url


def _needs_redis(name: str, context: Context) -> Finding | None:
    if name in ("stuck photos",) and not context.database_ok:
        return Finding(name, SKIP, "skipped: the database is unreachable (see the database line)")
    if context.redis is None:
        return Finding(name, SKIP, "skipped: Redis is unreachable (see the redis line)")
    return None


def check_queues(context: Context) -> Finding:
    if skipped := _needs_redis("queues", context):
        return skipped

    now = datetime.now(UTC)
    parts, details, findings = [], {}, []
    for name in settings.RQ_QUEUES:
        queue = Queue(name, connection=redis_connection(name), serializer=settings.RQ_SERIALIZER)
        depth = queue.count
        oldest_age = None
        first = queue.get_job_ids(0, 0)
        if first:
            job = Job.fetch(first[0], connection=queue.connection, serializer=queue.serializer)
            if job.enqueued_at:
                oldest_age = now - job.enqueued_at.replace(tzinfo=UTC)
        failed = FailedJobRegistry(queue=queue)
        failed_count = failed.count
        last_error = ""
        if failed_count:
            last_ids = failed.get_job_ids(0, 0, desc=True)
            if last_ids:
                job = Job.fetch(last_ids[0], connection=queue.connection, serializer=queue.serializer)
                result = job.latest_result()
                text = (result.exc_string if result is not None else "") or ""
                last_error = f"{job.id}: " + (text.strip().splitlines() or ["(no traceback)"])[-1]
        details[name] = {
            "depth": depth,
            "oldest_age_seconds": int(oldest_age.total_seconds()) if oldest_age else None,
            "failed": failed_count,
            "last_error": last_error,
        }
        text = f"{name}: {depth} waiting"
        if oldest_age is not None:
            text += f" (oldest {age_text(oldest_age)})"
        text += f", {failed_count} failed"
        parts.append(text)
        if oldest_age is not None and oldest_age > context.stuck_after:
            findings.append(
                (
                    WARN,
                    f"the oldest job in {name} has waited {age_text(oldest_age)}",
                    "Check the workers line; start more workers (GLOWWORM_WORKERS) if they are all busy.",
                )
            )
        if failed_count:
            findings.append(
                (
                    WARN,
                    f"{plural(failed_count, 'failed job')} in {name}, last: {last_error}",
                    "Read the error and fix its cause, then re-render the failed photos: "
                    "python manage.py reprocess --failed (python manage.py rqstats shows the queues).",
                )
            )
    summary = "; ".join(parts)
    if findings:
        summary += " - " + "; ".join(f[1] for f in findings)
        return Finding("queues", WARN, summary, fix=" ".join(dict.fromkeys(f[2] for f in findings)), details=details)
    return Finding("queues", OK, summary, details=details)


def check_workers(context: Context) -> Finding:
    if skipped := _needs_redis("workers", context):
        return skipped

    hostname = socket.gethostname()
    registered = Worker.all(connection=context.redis)
    now = datetime.now(UTC)
    alive, dead, stale, rows = [], [], [], []
    for worker in registered:
        heartbeat = worker.last_heartbeat.replace(tzinfo=UTC) if worker.last_heartbeat else None
        since = now - heartbeat if heartbeat else None
        gone = worker.hostname == hostname and worker.pid and not process_alive(worker.pid)
        late = since is None or since > timedelta(seconds=worker.worker_ttl) + HEARTBEAT_GRACE
        rows.append(
            {
                "name": worker.name,
                "host": worker.hostname,
                "pid": worker.pid,
                "state": worker.get_state(),
                "current_job": worker.get_current_job_id(),
                "last_heartbeat_seconds": int(since.total_seconds()) if since else None,
                "process_gone": bool(gone),
            }
        )
        if gone:
            dead.append(worker)
        elif late:
            stale.append(worker)
        else:
            alive.append(worker)
    details = {"workers": rows}
    if not alive:
        why = "no worker is alive"
        if dead:
            why += f" ({plural(len(dead), 'registered worker')} whose process is gone: {dead[0].name})"
        elif stale:
            why += f" ({plural(len(stale), 'worker')} with no recent heartbeat)"
        return Finding(
            "workers",
            ERROR,
            f"{why}: uploads stay queued and nothing renders",
            fix="Start the workers: `make run` starts them, or run `python manage.py worker`.",
            details=details,
        )
    ages = sorted(int((now - w.last_heartbeat.replace(tzinfo=UTC)).total_seconds()) for w in alive)
    heartbeats = f"{ages[0]} s ago" if ages[0] == ages[-1] else f"{ages[0]}-{ages[-1]} s ago"
    summary = f"{plural(len(alive), 'worker')} alive, heartbeats {heartbeats} (limit {alive[0].worker_ttl + 60} s)"
    busy = sum(1 for row in rows if row["current_job"] and not row["process_gone"])
    summary += f", {busy} busy"
    if dead or stale:
        extra = [w.name for w in dead + stale]
        return Finding(
            "workers",
            WARN,
            f"{summary}; {plural(len(extra), 'worker')} not responding: {', '.join(extra[:EXAMPLES])}",
            fix="Restart the workers that stopped; they leave the registry by themselves after their TTL.",
            details=details,
        )
    return Finding("workers", OK, summary, details=details)


# --- channel layer --------------------------------------------------------------------------------------------


async def _channel_round_trip(layer) -> float:
    group = f"doctor-{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        started = time.perf_counter()
        await layer.group_send(group, {"type": "doctor.ping", "nonce": group})
        while True:
            message = await layer.receive(channel)
            if message.get("nonce") == group:
                return time.perf_counter() - started
    finally:
        await layer.group_discard(group, channel)


def check_channel_layer(context: Context) -> Finding:
    if skipped := _needs_redis("channels", context):
        return skipped

    layer = get_channel_layer()
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        # The whole round trip is bounded: a connect to an unreachable host would otherwise wait for the OS.
        seconds = asyncio.run(asyncio.wait_for(_channel_round_trip(layer), timeout=10))
    except TimeoutError:
        return Finding(
            "channels",
            ERROR,
            f"{backend}: no group_send -> receive round trip within 10 s; pages get no live updates",
            fix="Check that CHANNEL_LAYERS points at the same Redis as the web server and that Redis is not full.",
        )
    except Exception as exc:
        return Finding(
            "channels",
            ERROR,
            f"{backend}: group_send/receive failed ({exc.__class__.__name__}: {exc}); pages get no live updates",
            fix="Check CHANNEL_LAYERS and REDIS_URL; the web server and workers must reach the same Redis.",
        )
    finally:
        # The layer's connection pools belong to the event loop asyncio.run just closed.

        channel_layers.backends.pop("default", None)
    return Finding(
        "channels",
        OK,
        f"{backend}: group_send -> receive round trip {seconds * 1000:.1f} ms",
        details={"round_trip_ms": round(seconds * 1000, 2)},
    )


# --- photos ---------------------------------------------------------------------------------------------------


def sweeper_delay() -> int:
    """Seconds within which the sweeper puts a photo without a live job back in the queue."""
    return settings.GLOWWORM_STUCK_AFTER + settings.GLOWWORM_SWEEP_INTERVAL


def default_stuck_after() -> timedelta:
    """A photo queued or rendering with no live job for longer than the sweeper takes to rescue it is stuck: the
    sweeper is not running, or no worker runs it."""
    return timedelta(seconds=sweeper_delay())


def check_stuck_photos(context: Context) -> Finding:
    if skipped := _needs_redis("stuck photos", context):
        return skipped

    stuck = stuck_photo_ids(unknown_after=context.stuck_after, dead_after=context.stuck_after)
    pending = Photo.all_objects.pending().count()
    details = {"pending": pending, "stuck": stuck, "stuck_after_seconds": int(context.stuck_after.total_seconds())}
    if stuck:
        shown = ", ".join(str(pk) for pk in stuck[:EXAMPLES]) + ("…" if len(stuck) > EXAMPLES else "")
        return Finding(
            "stuck photos",
            ERROR,
            f"{plural(len(stuck), 'photo')} queued or rendering for over {age_text(context.stuck_after)} "
            f"with no live job (ids {shown}); the sweeper re-queues such photos within "
            f"{age_text(timedelta(seconds=sweeper_delay()))}, so it is not running or no worker runs it",
            fix=(
                "Check the workers line first, then run: python manage.py reprocess --stuck "
                f"--older-than {context.stuck_after.total_seconds() / 60:g}"
            ),
            details=details,
        )
    return Finding(
        "stuck photos",
        OK,
        f"none ({pending} pending, each with a live job or younger than {age_text(context.stuck_after)})",
        details=details,
    )


class FolderListings:
    """Which files the folders under MEDIA_ROOT hold, each folder listed once: a library of 100,000 photos has
    400,000 files in 512 folders (originals/xx, variants/xx), and a listing per folder is 512 system calls where a
    stat per file is 400,000."""

    def __init__(self, root: str):
        self.root = root
        self.listings: dict[str, frozenset[str]] = {}

    def _list(self, folder: str) -> frozenset[str]:
        # A folder outside MEDIA_ROOT, missing or unreadable has nothing in it: its files are as good as missing.
        if os.path.isabs(folder) or ".." in folder.split("/"):
            return frozenset()
        try:
            with os.scandir(os.path.join(self.root, folder)) as entries:
                # is_file() follows a symlink as os.path.isfile does, and needs no stat for a plain file.
                return frozenset(entry.name for entry in entries if entry.is_file())
        except OSError:
            return frozenset()

    def missing(self, relative: str) -> bool:
        # Stored names are generated (storage.original_name_for/variant_name_for): a plain split, not
        # storage.media_path's resolve(), which is five times slower over a whole library. The folder keeps its
        # slash, so "/name" is the absolute folder "/", never MEDIA_ROOT's "".
        cut = relative.rfind("/") + 1
        folder = relative[:cut]
        names = self.listings.get(folder)
        if names is None:
            names = self.listings[folder] = self._list(folder)
        return relative[cut:] not in names


ROWS_PER_CHUNK = 5_000


def missing_files() -> tuple[list[int], list[int]]:
    """Ids of photos whose original is missing, and of photos with a missing variant file."""
    listings = FolderListings(os.path.realpath(settings.MEDIA_ROOT))
    local_photos = Photo.all_objects.filter(original_location=Location.LOCAL)  # the bucket's: check_bucket_files
    # Unordered: Variant's default order joins every photo and sorts 400,000 rows, for ids sorted here anyway.
    local_variants = Variant.objects.filter(location=Location.LOCAL).order_by()
    originals = [
        pk
        for pk, name in local_photos.values_list("pk", "original").iterator(chunk_size=ROWS_PER_CHUNK)
        if listings.missing(name)
    ]
    variants = sorted(
        {
            photo_id
            for photo_id, name in local_variants.values_list("photo_id", "file").iterator(chunk_size=ROWS_PER_CHUNK)
            if listings.missing(name)
        }
    )
    return originals, variants


def check_missing_files(context: Context) -> Finding:

    if not context.database_ok:
        return Finding("files", SKIP, "skipped: the database is unreachable (see the database line)")
    originals, variants = missing_files()
    details = {"missing_originals": originals, "missing_variants": variants, "media_root": str(settings.MEDIA_ROOT)}
    if not originals and not variants:
        photos = Photo.all_objects.filter(original_location=Location.LOCAL).count()
        files = Variant.objects.filter(location=Location.LOCAL).count()
        return Finding(
            "files",
            OK,
            f"all files on disk ({plural(photos, 'original')}, {plural(files, 'variant')})",
            details=details,
        )

    def ids(values):
        return ", ".join(str(pk) for pk in values[:EXAMPLES]) + ("…" if len(values) > EXAMPLES else "")

    parts, fixes = [], []
    if originals:
        parts.append(f"{plural(len(originals), 'photo')} missing the original (ids {ids(originals)})")
        fixes.append(
            f"Restore the originals under {settings.MEDIA_ROOT} from a backup (is MEDIA_ROOT right?) "
            "or delete those photos."
        )
    if variants:
        parts.append(f"{plural(len(variants), 'photo')} missing rendered files (ids {ids(variants)})")
        fixes.append("Re-render the missing files: python manage.py reprocess --missing")
    return Finding("files", ERROR, "; ".join(parts), fix=" ".join(fixes), details=details)


# --- the bucket (media on S3) ---------------------------------------------------------------------------------


def check_bucket(context: Context) -> Finding:
    """Reachable, the credentials accepted, the bucket there, and a write-read-delete round trip that works."""
    if not storage.bucket_configured():
        return Finding("bucket", OK, "none configured: media live under MEDIA_ROOT")
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    where = settings.AWS_S3_ENDPOINT_URL or "AWS S3"
    client = storage.bucket_storage().connection.meta.client
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:  # noqa: BLE001 - every failure is named below
        return _bucket_finding(exc)
    probe = f".glowworm-doctor/{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes
    try:
        storage.write_bytes(probe, payload, location=storage.S3)
        with storage.open_file(probe, location=storage.S3) as handle:
            read_back = handle.read()
        storage.delete_file(probe, storage.S3)
    except storage.StorageUnavailable as exc:
        return Finding(
            "bucket",
            ERROR,
            f"{bucket} at {where} is there, but a test file could not be written, read and deleted: {exc}",
            fix="Give the credentials s3:PutObject, s3:GetObject, s3:DeleteObject and s3:ListBucket on the bucket.",
        )
    if read_back != payload:
        return Finding("bucket", ERROR, f"{bucket} at {where} gave back other bytes than were written", fix=(
            "Check the S3 server's health (its own logs); Glowworm cannot trust this bucket."
        ))  # fmt: skip
    origin = storage.public_origin()
    return Finding(
        "bucket",
        OK,
        f"{bucket} at {where}: credentials accepted, write-read-delete works; browsers are sent to {origin}",
        details={"bucket": bucket, "endpoint": where, "public_origin": origin},
    )


def _bucket_finding(exc: Exception) -> Finding:
    """Which of the usual problems it is, in plain words with the fix."""
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    where = settings.AWS_S3_ENDPOINT_URL or "AWS S3"
    code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
    if code in ("404", "NoSuchBucket", "NotFound"):
        return Finding(
            "bucket",
            ERROR,
            f"the bucket {bucket!r} does not exist at {where} (the server answered, and accepted the credentials)",
            fix=f"Create it (aws s3 mb s3://{bucket}, or the provider's console) or fix AWS_STORAGE_BUCKET_NAME.",
        )
    if code in ("403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
        return Finding(
            "bucket",
            ERROR,
            f"{where} refused the credentials for {bucket!r} ({code})",
            fix="Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may use this bucket.",
        )
    return Finding(
        "bucket",
        ERROR,
        storage.describe_bucket_error(exc),
        fix=f"Start the S3 server, or fix AWS_S3_ENDPOINT_URL ({where}).",
    )


def check_bucket_files(context: Context) -> Finding:
    """Rows whose file should be in the bucket and is not: one listing of the bucket, not a request per file."""
    if not storage.bucket_configured():
        return Finding("bucket files", OK, "none configured")
    if not context.database_ok:
        return Finding("bucket files", SKIP, "skipped: the database is unreachable (see the database line)")
    try:
        present = {f.name for folder in ("originals", "variants") for f in storage.list_files(folder, location="s3")}
    except storage.StorageUnavailable as exc:
        return Finding("bucket files", SKIP, f"skipped: {exc}")
    in_bucket = Photo.all_objects.filter(original_location=Location.S3)
    originals = [pk for pk, name in in_bucket.values_list("pk", "original").iterator() if name not in present]
    variants = sorted(
        {
            photo_id
            for photo_id, name in Variant.objects.filter(location=Location.S3).values_list("photo_id", "file")
            if name not in present
        }
    )
    details = {"missing_originals": originals, "missing_variants": variants}
    if not originals and not variants:
        return Finding(
            "bucket files",
            OK,
            f"every file rows place in the bucket is there ({plural(in_bucket.count(), 'original')}, "
            f"{plural(Variant.objects.filter(location=Location.S3).count(), 'variant')})",
            details=details,
        )
    parts, fixes = [], []
    if originals:
        shown = ", ".join(str(pk) for pk in originals[:EXAMPLES]) + ("…" if len(originals) > EXAMPLES else "")
        parts.append(f"{plural(len(originals), 'photo')} missing the original in the bucket (ids {shown})")
        fixes.append("Restore those objects from the bucket's versions or a backup, or delete those photos.")
    if variants:
        shown = ", ".join(str(pk) for pk in variants[:EXAMPLES]) + ("…" if len(variants) > EXAMPLES else "")
        parts.append(f"{plural(len(variants), 'photo')} missing rendered files in the bucket (ids {shown})")
        fixes.append("Re-render the missing files: python manage.py reprocess --missing")
    return Finding("bucket files", ERROR, "; ".join(parts), fix=" ".join(fixes), details=details)


# --- running --------------------------------------------------------------------------------------------------

CHECKS: list[Callable[[Context], Finding]] = [
    check_settings,
    check_database,
    check_disk,
    check_pillow,
    check_redis,
    check_queues,
    check_workers,
    check_channel_layer,
    check_stuck_photos,
    check_missing_files,
    check_bucket,
    check_bucket_files,
]


def run_check(check: Callable[[Context], Finding], context: Context) -> Finding:
    name = check.__name__.removeprefix("check_").replace("_", " ")
    started = time.perf_counter()
    try:
        finding = check(context)
    except Exception as exc:
        finding = Finding(
            name,
            ERROR,
            f"the check itself failed: {exc.__class__.__name__}: {exc}",
            fix="Read the error above; it usually names a missing service or a wrong setting.",
        )
    finding.seconds = time.perf_counter() - started
    return finding


def run_checks(*, stuck_after: timedelta | None = None) -> list[Finding]:
    context = Context(stuck_after=default_stuck_after() if stuck_after is None else stuck_after)
    return [run_check(check, context) for check in CHECKS]
