"""What sidecar files say about a photo: Google Takeout's JSON (`IMG_1234.jpg.json`,
`IMG_1234.jpg.supplemental-metadata.json`) and XMP (`IMG_1234.jpg.xmp`, `IMG_1234.xmp`). Reading only: the import
(gallery/importing.py) uses what they say when the photo file itself has no date, position or caption.

Takeout's naming rules, as seen in real exports and in the tools that read them (immich-go, google-photos-exif):
- the sidecar of `NAME` is `NAME.json` or, since 2024, `NAME.supplemental-metadata.json`;
- the sidecar's name before `.json` is cut to 46 characters (51 with `.json`): `a-very-long-name….jp.json`,
  `IMG_20200920_131207.jpg.supplemental-meta.json`, even `NAME..json`;
- a second file of the same name, `IMG_1234(1).jpg`, has its counter moved to the end: `IMG_1234.jpg(1).json`,
  `IMG_1234.jpg.supplemental-metadata(1).json`;
- an edited copy (`IMG_1234-edited.jpg`) has no sidecar of its own: it shares the original's.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

TAKEOUT_NAME_LIMIT = 46  # characters of a sidecar's name before ".json"
SUPPLEMENTAL = ".supplemental-metadata"
EDITED_SUFFIXES = ("-edited", "-bearbeitet", "-modifié", "-modificato", "-editado", "-bewerkt")
_COUNTER = re.compile(r"^(?P<stem>.*?)(?P<counter>\(\d+\))$")


@dataclass
class SidecarData:
    taken_at: datetime | None = None  # aware when the sidecar gives the offset or an instant (Takeout: UTC)
    taken_at_offset: str = ""
    latitude: float | None = None
    longitude: float | None = None
    title: str = ""
    file_name: str = ""  # Takeout's title: the name the file had when it was uploaded to Google
    description: str = ""


def is_sidecar_name(name: str) -> bool:
    return name.lower().endswith((".json", ".xmp"))


def _split_counter(stem: str) -> tuple[str, str]:
    match = _COUNTER.match(stem)
    return (match["stem"], match["counter"]) if match else (stem, "")


def _names_for(name: str) -> list[tuple[str, str]]:
    """The (media name, counter) pairs a sidecar may be named after: the name itself, without its `(n)` counter
    (which Takeout moves to the end), and the original of an edited copy."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    suffix = f".{extension}" if dot else ""
    pairs = [(name, "")]
    bare, counter = _split_counter(stem)
    if counter:
        pairs.append((bare + suffix, counter))
    for edited in EDITED_SUFFIXES:
        if bare.lower().endswith(edited):
            pairs.append((bare[: -len(edited)] + suffix, counter))
    return pairs


def _matches(core: str, media: str) -> bool:
    """Does a sidecar whose name before `(n).json` is `core` belong to `media` (a name with its counter removed)?"""
    full = media + SUPPLEMENTAL
    if core == media or core == media.rpartition(".")[0]:
        return True
    if core.startswith(media + ".") and full.startswith(core):
        return True  # `.supplemental-metadata`, maybe cut short
    # The media name itself was cut: only where Takeout's limit did it.
    return len(core) >= TAKEOUT_NAME_LIMIT - 3 and full.startswith(core)


def takeout_sidecar(media: Path, names: frozenset[str]) -> Path | None:
    """The Takeout JSON sidecar of `media` among `names` (the files in its folder), or None."""
    candidates = []
    for sidecar in names:
        if not sidecar.lower().endswith(".json") or sidecar == media.name:
            continue
        core, counter = _split_counter(sidecar[: -len(".json")])
        candidates.append((core, counter, sidecar))
    for media_name, wanted_counter in _names_for(media.name):
        for core, counter, sidecar in candidates:
            if counter == wanted_counter and _matches(core, media_name):
                return media.with_name(sidecar)
    return None


def xmp_sidecar(media: Path, names: frozenset[str]) -> Path | None:
    """`IMG_1234.jpg.xmp` or `IMG_1234.xmp` (any case) beside `media`, or None."""
    wanted = {f"{media.name}.xmp".lower(), f"{media.stem}.xmp".lower()}
    for name in sorted(names):
        if name.lower() in wanted:
            return media.with_name(name)
    return None


def _coordinate(value, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 7) if -limit <= number <= limit and number == number else None


def read_takeout(path: Path) -> SidecarData:
    """photoTakenTime (a UTC instant), geoData (0, 0 means none), title and description. ValueError if the file is
    not a Takeout sidecar."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a Takeout sidecar")
    title = _string(data.get("title"))
    result = SidecarData(title=title, file_name=title, description=_string(data.get("description")))
    taken = data.get("photoTakenTime")
    if isinstance(taken, dict):
        try:
            seconds = int(taken.get("timestamp"))
            if seconds > 0:  # Takeout writes 0 when it does not know
                result.taken_at = datetime.fromtimestamp(seconds, tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            pass
    for key in ("geoData", "geoDataExif"):
        geo = data.get(key)
        if not isinstance(geo, dict):
            continue
        latitude, longitude = _coordinate(geo.get("latitude"), 90), _coordinate(geo.get("longitude"), 180)
        if latitude is not None and longitude is not None and (latitude, longitude) != (0, 0):
            result.latitude, result.longitude = latitude, longitude
            break
    return result


def _string(value) -> str:
    return value.strip() if isinstance(value, str) else ""


XMP_DATES = ("DateTimeOriginal", "DateCreated", "CreateDate")
_XMP_GPS = re.compile(
    r"^(?P<degrees>\d+(?:\.\d+)?)(?:,(?P<minutes>\d+(?:\.\d+)?))?(?:,(?P<seconds>\d+(?:\.\d+)?))?(?P<ref>[NSEW])$"
)


def _xmp_gps(value: str, limit: float) -> float | None:
    match = _XMP_GPS.match(value.strip().upper())
    if not match:
        return _coordinate(value, limit)
    number = float(match["degrees"]) + float(match["minutes"] or 0) / 60 + float(match["seconds"] or 0) / 3600
    return _coordinate(-number if match["ref"] in "SW" else number, limit)


def _xmp_values(root: ElementTree.Element) -> dict[str, str]:
    """Local property name -> first value, from attributes and from elements (rdf:Alt/Seq's first li) alike."""
    values: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            values.setdefault(key.rpartition("}")[2], value)
        name = element.tag.rpartition("}")[2]
        text = (element.text or "").strip()
        if not text:
            item = next(
                (child for child in element.iter() if child is not element and (child.text or "").strip()), None
            )
            text = (item.text or "").strip() if item is not None else ""
        if text:
            values.setdefault(name, text)
    return values


def read_xmp(path: Path) -> SidecarData:
    """The date taken (exif:DateTimeOriginal, photoshop:DateCreated or xmp:CreateDate), exif:GPSLatitude and
    GPSLongitude, dc:title and dc:description. ValueError if the file is not XML."""
    return read_xmp_packet(path.read_bytes())


def read_xmp_packet(data: bytes) -> SidecarData:
    """As read_xmp, from the XMP itself: a sidecar's content, or the packet embedded in a photo (Pillow's
    `image.info`)."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    values = _xmp_values(root)
    result = SidecarData(title=values.get("title", ""), description=values.get("description", ""))
    for key in XMP_DATES:
        if key in values:
            try:
                taken = datetime.fromisoformat(values[key].replace("Z", "+00:00"))
            except ValueError:
                continue
            result.taken_at = taken
            if taken.utcoffset() is not None:
                result.taken_at_offset = taken.strftime("%z")[:3] + ":" + taken.strftime("%z")[3:]
            break
    if "GPSLatitude" in values and "GPSLongitude" in values:
        latitude, longitude = _xmp_gps(values["GPSLatitude"], 90), _xmp_gps(values["GPSLongitude"], 180)
        if latitude is not None and longitude is not None:
            result.latitude, result.longitude = latitude, longitude
    return result
