"""Where files live under MEDIA_ROOT. Names are generated; nothing the client sent becomes a path."""

import os
import secrets
import shutil
from pathlib import Path

from django.conf import settings

from processing import formats


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


def original_name_for(key: str, pillow_format: str) -> str:
    return f"originals/{key[:2]}/{key}.{formats.extension(pillow_format)}"


def variant_name_for(key: str, spec_name: str, extension: str) -> str:
    # A fresh token per render: a re-render never overwrites a file a page may be showing.
    return f"variants/{key[:2]}/{key}-{spec_name}-{secrets.token_hex(4)}.{extension}"


def store_file(source: str | Path, relative: str) -> Path:
    """Move (or copy, across file systems) a finished file into place."""
    target = media_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(os.fspath(source), target)
    os.chmod(target, 0o640)
    return target


def write_bytes(relative: str, data: bytes) -> Path:
    """Write atomically: a reader sees the whole file or none."""
    target = media_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, target)
    return target


def delete_file(relative: str) -> None:
    if not relative:
        return
    try:
        media_path(relative).unlink()
    except FileNotFoundError:
        pass
