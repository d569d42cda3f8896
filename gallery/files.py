"""Names of files as people see them: the client's file name, kept for display and downloads, never a path."""

from __future__ import annotations

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
MAX_NAME = 200


def clean_file_name(name: str) -> str:
    """A file name safe to show and to offer as a download or a zip entry: no folders, no control or bidi-override
    characters, no colon (a drive or a stream on Windows), no leading dots; "" when nothing usable is left."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in BIDI_CONTROLS).replace(":", "-")
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:190] + "…" + dot + extension[:8]) if dot and len(extension) <= 8 else name[:MAX_NAME]
    return name
