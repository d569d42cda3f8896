"""Search and filters over the library, from query parameters: the pages (filter chips whose state lives in the URL)
and the API read them the same way.

Exactly: `q` matches each of its words case-insensitively as a substring of the original name, caption, camera make
or model, lens or the name of an album the photo is in, and all words must match; `taken_after` and `taken_before`
are inclusive ISO dates on the date taken (the camera's calendar day, Photo.taken_date), and a date filter leaves
out photos with no date taken; `camera` is the camera's make or model, ignoring case; `album` an album id;
`favorite` the caller's own stars; `orientation` landscape (wider than tall), portrait (taller than wide) or square;
`format` the file format ignoring case (jpeg, HEIF...); `sha256` the exact hash. Booleans accept 1, 0, true and
false. A bad value raises FilterError with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from urllib.parse import urlencode

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from gallery.models import AlbumPhoto, Favorite, Photo

ORIENTATIONS = ("landscape", "portrait", "square")
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}


class FilterError(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass
class PhotoFilter:
    q: list[str] = field(default_factory=list)
    taken_after: date | None = None
    taken_before: date | None = None
    camera: str = ""
    album: int | None = None
    favorite: bool | None = None
    orientation: str = ""
    format: str = ""
    sha256: str = ""

    NAMES = ("q", "taken_after", "taken_before", "camera", "album", "favorite", "orientation", "format", "sha256")

    @classmethod
    def from_query(cls, query) -> PhotoFilter:
        """From a QueryDict (or any mapping of names to strings); unknown names are left alone."""
        found = cls()
        value = (query.get("q") or "").strip()
        found.q = value.split()[:10]
        for name in ("taken_after", "taken_before"):
            value = (query.get(name) or "").strip()
            if value:
                try:
                    setattr(found, name, date.fromisoformat(value))
                except ValueError:
                    raise FilterError(name, f"{value!r} is not a date (YYYY-MM-DD).") from None
        found.camera = (query.get("camera") or "").strip()[:100]
        value = (query.get("album") or "").strip()
        if value:
            if not value.isdigit() or not 0 < int(value) < 2**63:
                raise FilterError("album", f"{value!r} is not an album id.")
            found.album = int(value)
        value = (query.get("favorite") or "").strip().lower()
        if value:
            if value not in BOOLEANS:
                raise FilterError("favorite", "use 1, 0, true or false.")
            found.favorite = BOOLEANS[value]
        value = (query.get("orientation") or "").strip().lower()
        if value:
            if value not in ORIENTATIONS:
                raise FilterError("orientation", f"use {', '.join(ORIENTATIONS)}.")
            found.orientation = value
        found.format = (query.get("format") or "").strip()[:16]
        value = (query.get("sha256") or "").strip().lower()
        if value:
            if len(value) != 64 or any(ch not in "0123456789abcdef" for ch in value):
                raise FilterError("sha256", "64 hexadecimal digits.")
            found.sha256 = value
        return found

    def __bool__(self) -> bool:
        return any(getattr(self, item.name) not in (None, "", []) for item in fields(self))

    def apply(self, photos: QuerySet[Photo], user) -> QuerySet[Photo]:
        if self.taken_after:
            photos = photos.filter(taken_date__gte=self.taken_after)
        if self.taken_before:
            photos = photos.filter(taken_date__lte=self.taken_before)
        if self.camera:
            photos = photos.filter(Q(camera_model__iexact=self.camera) | Q(camera_make__iexact=self.camera))
        if self.album is not None:
            photos = photos.filter(Exists(AlbumPhoto.objects.filter(photo=OuterRef("pk"), album_id=self.album)))
        if self.favorite is not None:
            starred = Exists(Favorite.objects.filter(photo=OuterRef("pk"), user_id=user.pk))
            photos = photos.filter(starred if self.favorite else ~starred)
        if self.orientation == "landscape":
            photos = photos.filter(width__gt=F("height"))
        elif self.orientation == "portrait":
            photos = photos.filter(height__gt=F("width"))
        elif self.orientation == "square":
            photos = photos.filter(width=F("height"))
        if self.format:
            photos = photos.filter(format__iexact=self.format)
        if self.sha256:
            photos = photos.filter(sha256=self.sha256)
        # Words last: the database tests conditions in the order written, and the indexed, selective ones above
        # spare most rows the substring tests and the album lookup.
        for word in self.q:
            in_album = AlbumPhoto.objects.filter(photo=OuterRef("pk"), album__name__icontains=word)
            photos = photos.filter(
                Q(original_name__icontains=word)
                | Q(caption__icontains=word)
                | Q(camera_make__icontains=word)
                | Q(camera_model__icontains=word)
                | Q(lens__icontains=word)
                | Exists(in_album)
            )
        return photos

    def query_string(self, **changes) -> str:
        """This filter as URL parameters, with some changed (None or "" removes one): for chips and links."""
        values = {
            "q": " ".join(self.q),
            "taken_after": self.taken_after.isoformat() if self.taken_after else "",
            "taken_before": self.taken_before.isoformat() if self.taken_before else "",
            "camera": self.camera,
            "album": self.album or "",
            "favorite": "" if self.favorite is None else ("1" if self.favorite else "0"),
            "orientation": self.orientation,
            "format": self.format,
            "sha256": self.sha256,
        }
        values.update(changes)
        return urlencode({name: value for name, value in values.items() if value not in (None, "")})
