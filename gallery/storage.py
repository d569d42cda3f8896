"""Where stored files live: under MEDIA_ROOT (the embedded default), or in an S3-compatible bucket when
AWS_STORAGE_BUCKET_NAME is set. The one home of both: every other module reads, writes, lists and deletes originals
and variants through the functions here, naming the location the row records (Photo.original_location,
Variant.location), so a library half-way through `media_migrate` is served from both.

Names are generated (original_name_for, variant_name_for); nothing the client sent becomes a path or a key. The bucket
goes through django-storages' S3Storage (its boto3 resource, client and settings); uploads use boto3's
upload_fileobj, which switches to a multipart upload for large files.

Errors a caller must tell apart: a missing file or object is FileNotFoundError, as for a local file; a bucket that
cannot be reached, or that refuses our credentials, is StorageUnavailable (transient for the workers, 503 for uploads).
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from gallery.models import Location
from processing import formats

LOCAL, S3 = Location.LOCAL, Location.S3
# Variant names change on every render, so a name's content never changes.
VARIANT_CACHE_CONTROL = "private, max-age=31536000, immutable"


class StorageUnavailable(Exception):
    """The bucket could not be reached, or refused us (credentials, a missing bucket): nothing about the file."""


# --- names ------------------------------------------------------------------------------------------------------


def media_path(relative: str, *, under: str = "") -> Path:
    """The absolute path of a stored file, resolved (symlinks followed), which must lie under MEDIA_ROOT (or its
    folder `under`): ValueError otherwise, or for a name the file system cannot even look at."""
    root = Path(settings.MEDIA_ROOT).resolve()
    base = root / under if under else root
    try:
        path = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):  # a name too long, a symlink loop, a NUL byte
        raise ValueError(f"{relative[:80]!r} is not a usable name") from None
    if base not in path.parents:
        raise ValueError(f"{relative[:80]!r} is outside {base}")
    return path


def check_name(relative: str, *, under: str = "") -> str:
    """The same rule as media_path for a key in the bucket: a plain relative name under `under`, no `..`."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or "\x00" in relative or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{relative[:80]!r} is not a usable name")
    if under and (len(parts) < 2 or parts[0] != under):
        raise ValueError(f"{relative[:80]!r} is outside {under}")
    return relative


def original_name_for(key: str, pillow_format: str) -> str:
    return f"originals/{key[:2]}/{key}.{formats.extension(pillow_format)}"


def variant_name_for(key: str, spec_name: str, extension: str) -> str:
    # A fresh token per render: a re-render never overwrites a file a page may be showing.
    return f"variants/{key[:2]}/{key}-{spec_name}-{secrets.token_hex(4)}.{extension}"


# --- which location ---------------------------------------------------------------------------------------------


def bucket_configured() -> bool:
    return bool(getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""))


def default_location() -> str:
    """Where new files go: the bucket when one is configured, else MEDIA_ROOT."""
    return S3 if bucket_configured() else LOCAL


def locations_in_use() -> list[str]:
    return [LOCAL, S3] if bucket_configured() else [LOCAL]


@functools.cache
def bucket_storage():
    """django-storages' S3Storage, built from the AWS_* settings (cached; a settings change in tests resets it)."""
    return S3Storage()


@functools.cache
def _signing_client():
    """The client that signs the URLs browsers follow: for AWS_S3_CUSTOM_DOMAIN when set (the bucket's public
    origin, e.g. a proxy in front of MinIO), else the endpoint the app itself talks to."""
    bucket = bucket_storage()
    domain = getattr(settings, "AWS_S3_CUSTOM_DOMAIN", "")
    if not domain:
        return bucket.connection.meta.client
    protocol = getattr(settings, "AWS_S3_URL_PROTOCOL", "https:") or "https:"
    return boto3.session.Session().client(
        "s3",
        endpoint_url=f"{protocol}//{domain}",
        region_name=bucket.region_name,
        aws_access_key_id=bucket.access_key,
        aws_secret_access_key=bucket.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@receiver(setting_changed)
def _forget_clients(*, setting, **kwargs):
    if setting.startswith("AWS_"):
        bucket_storage.cache_clear()
        _signing_client.cache_clear()


def _key(name: str) -> str:
    """The object key of a stored name: with AWS_LOCATION's prefix, as django-storages makes it."""
    return bucket_storage()._normalize_name(clean_name(check_name(name)))


@contextmanager
def _bucket_errors(name: str = ""):
    """botocore's errors in the two kinds callers handle."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise FileNotFoundError(f"{name} is not in the bucket") from None
        raise StorageUnavailable(describe_bucket_error(exc)) from exc
    except BotoCoreError as exc:  # no connection, a timeout, no credentials at all
        raise StorageUnavailable(describe_bucket_error(exc)) from exc


def describe_bucket_error(exc: Exception) -> str:
    """One sentence a person can act on, for an error from the bucket."""
    bucket = getattr(settings, "AWS_STORAGE_BUCKET_NAME", "")
    endpoint = getattr(settings, "AWS_S3_ENDPOINT_URL", "") or "AWS S3"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket":
            return f"The bucket {bucket!r} does not exist at {endpoint}: create it, or fix AWS_STORAGE_BUCKET_NAME."
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidToken"):
            return (
                f"{endpoint} refused the credentials ({code}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                f"and that they may read and write {bucket!r}."
            )
        return f"{endpoint} answered {code or 'an error'} for bucket {bucket!r}."
    if isinstance(exc, NoCredentialsError):
        return "No S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
    if isinstance(exc, EndpointConnectionError):
        return f"{endpoint} cannot be reached: is it running, and is AWS_S3_ENDPOINT_URL right?"
    return f"{endpoint} cannot be reached ({exc.__class__.__name__}): is it running, and is AWS_S3_ENDPOINT_URL right?"


# --- writing ----------------------------------------------------------------------------------------------------


def store_file(source: str | Path, relative: str, *, location: str = LOCAL) -> Path | None:
    """Put a finished file in place: moved (a rename on one file system) under MEDIA_ROOT, or sent to the bucket
    once, in parts when large. Either way the source is gone afterwards. Returns the path of a local file."""
    if location == S3:
        with open(source, "rb") as handle, _bucket_errors(relative):
            bucket_storage().bucket.Object(_key(relative)).upload_fileobj(
                handle,
                ExtraArgs={"ContentType": formats.mime_type_of(relative)},
                Config=bucket_storage().transfer_config,
            )
        os.unlink(source)
        return None
    target = media_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(os.fspath(source), target)
    os.chmod(target, 0o640)
    return target


def write_bytes(relative: str, data: bytes, *, location: str = LOCAL) -> Path | None:
    """Write atomically: a reader sees the whole file or none (an S3 PUT is atomic by itself). Returns the path of a
    local file."""
    if location == S3:
        with _bucket_errors(relative):
            bucket_storage().bucket.Object(_key(relative)).put(
                Body=data, ContentType=formats.mime_type_of(relative), CacheControl=VARIANT_CACHE_CONTROL
            )
        return None
    target = media_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, target)
    return target


def copy_file(relative: str, *, source: str, target: str) -> None:
    """Copy a stored file from one location to the other under the same name, streamed (`media_migrate`). A copy to
    MEDIA_ROOT appears whole or not at all; a copy into the bucket is one PUT (in parts when large)."""
    if target == S3:
        extra = {"ContentType": formats.mime_type_of(relative)}
        if relative.startswith("variants/"):
            extra["CacheControl"] = VARIANT_CACHE_CONTROL
        with open_file(relative, location=source) as handle, _bucket_errors(relative):
            bucket_storage().bucket.Object(_key(relative)).upload_fileobj(
                handle, ExtraArgs=extra, Config=bucket_storage().transfer_config
            )
        return
    path = media_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open_file(relative, location=source) as handle, open(temporary, "wb") as out:
            shutil.copyfileobj(handle, out, 1024 * 1024)
        os.chmod(temporary, 0o640)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def delete_file(relative: str, location: str = LOCAL) -> None:
    """Remove a stored file; one already gone is fine. (Also an RQ job: retired variants, processing/jobs.py.)"""
    if not relative:
        return
    if location == S3:
        with _bucket_errors(relative):
            bucket_storage().bucket.Object(_key(relative)).delete()
        return
    try:
        media_path(relative).unlink()
    except FileNotFoundError:
        pass


# --- reading ----------------------------------------------------------------------------------------------------


def open_file(relative: str, *, location: str = LOCAL) -> BinaryIO:
    """A stream of the stored bytes (read(n), close()). FileNotFoundError when it is not there; ValueError for a
    name outside the media tree."""
    if location == S3:
        check_name(relative)
        with _bucket_errors(relative):
            return bucket_storage().bucket.Object(_key(relative)).get()["Body"]
    return open(media_path(relative), "rb")


@contextmanager
def local_copy(relative: str, *, location: str = LOCAL) -> Iterator[Path]:
    """A path to the file on this host's disk for as long as the block runs: the file itself under MEDIA_ROOT, or
    a temporary copy streamed from the bucket (deleted afterwards), so a worker needs no shared disk."""
    if location != S3:
        yield media_path(relative)
        return
    check_name(relative)
    handle = tempfile.NamedTemporaryFile(prefix="glowworm-", suffix=Path(relative).suffix, delete=False)
    try:
        with handle, _bucket_errors(relative):
            bucket_storage().bucket.Object(_key(relative)).download_fileobj(handle)
        yield Path(handle.name)
    finally:
        os.unlink(handle.name)


_listing: ContextVar[dict[str, set[str]] | None] = ContextVar("bucket_listing", default=None)


@contextmanager
def listed() -> Iterator[None]:
    """Within the block, exists() on the bucket answers from one listing of each top folder, taken when first
    needed, instead of a request per file: for commands that ask about a whole library (`reprocess --missing`)."""
    token = _listing.set({})
    try:
        yield
    finally:
        _listing.reset(token)


def exists(relative: str, *, location: str = LOCAL) -> bool:
    snapshot = _listing.get()
    if location == S3 and snapshot is not None:
        folder = relative.split("/", 1)[0]
        if folder not in snapshot:
            snapshot[folder] = {stored.name for stored in list_files(folder, location=S3)}
        return relative in snapshot[folder]
    try:
        return size(relative, location=location) >= 0
    except (FileNotFoundError, ValueError):
        return False


def size(relative: str, *, location: str = LOCAL) -> int:
    """The stored file's size in bytes; FileNotFoundError when it is not there."""
    if location == S3:
        check_name(relative)
        with _bucket_errors(relative):
            return bucket_storage().connection.meta.client.head_object(
                Bucket=bucket_storage().bucket_name, Key=_key(relative)
            )["ContentLength"]
    path = media_path(relative)
    if not path.is_file():
        raise FileNotFoundError(relative)
    return path.stat().st_size


def sha256_of(relative: str, *, location: str = LOCAL) -> str:
    digest = hashlib.sha256()
    with open_file(relative, location=location) as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredFile:
    name: str  # relative, as rows record it
    size: int
    modified: float  # a Unix time


def list_files(folder: str, *, location: str = LOCAL) -> Iterator[StoredFile]:
    """Every file under a top folder (originals, variants) of a location."""
    if location == S3:
        bucket = bucket_storage()
        prefix = _key(folder) + "/"
        strip = len(prefix) - len(folder) - 1
        paginator = bucket.connection.meta.client.get_paginator("list_objects_v2")
        with _bucket_errors(folder):
            for page in paginator.paginate(Bucket=bucket.bucket_name, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield StoredFile(item["Key"][strip:], item["Size"], item["LastModified"].timestamp())
        return
    root = Path(settings.MEDIA_ROOT)
    for dirpath, _dirnames, filenames in os.walk(root / folder):
        for filename in filenames:
            path = Path(dirpath) / filename
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            yield StoredFile(path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime)


# --- URLs browsers follow ---------------------------------------------------------------------------------------


def clock() -> float:
    """Now, as a Unix time (tests move it to a window's edge)."""
    return time.time()


def presigned_url(relative: str, *, attachment_name: str = "", content_type: str = "") -> tuple[str, int]:
    """A signed GET URL for an object in the bucket, and for how many more seconds a browser may keep reusing it.

    Signed once per GLOWWORM_MEDIA_URL_WINDOW (an hour) and shared through the cache: every page load and every web
    process hands out the same URL until the window ends, so the browser's cache of the (immutable) object keeps
    working. Each URL stays valid for a whole window after the one it was made in."""
    window = settings.GLOWWORM_MEDIA_URL_WINDOW
    now = clock()
    window_end = (int(now) // window + 1) * window
    left = max(1, int(window_end - now))
    bucket = bucket_storage().bucket_name
    signed = f"{public_origin()}\0{bucket}\0{_key(relative)}\0{attachment_name}\0{content_type}\0{window_end}"
    cache_key = "presigned:" + hashlib.sha256(signed.encode()).hexdigest()
    try:
        url = cache.get(cache_key)
    except Exception:  # noqa: BLE001 - Redis down: sign afresh rather than fail the image
        url = None
    if url is None:
        params = {"Bucket": bucket, "Key": _key(relative)}
        if attachment_name:
            params["ResponseContentDisposition"] = attachment_name
        if content_type:
            params["ResponseContentType"] = content_type
        url = _signing_client().generate_presigned_url("get_object", Params=params, ExpiresIn=left + window)
        try:
            cache.set(cache_key, url, timeout=left)
        except Exception:  # noqa: BLE001 - as above
            pass
    return url, left


def public_origin() -> str:
    """scheme://host of the URLs browsers are sent to (for the CSP's img-src); empty without a bucket."""
    if not bucket_configured():
        return ""
    return _public_origin()


@functools.cache
def _public_origin() -> str:
    # Signing makes no request: a URL for a name that need not exist says which host browsers will reach.
    parts = urlsplit(
        _signing_client().generate_presigned_url(
            "get_object", Params={"Bucket": bucket_storage().bucket_name, "Key": "x"}
        )
    )
    return f"{parts.scheme}://{parts.netloc}"


@receiver(setting_changed)
def _forget_origin(*, setting, **kwargs):
    if setting.startswith("AWS_"):
        _public_origin.cache_clear()
