"""The search box and filter chips over a grid: what gallery/_filters.html shows for a PhotoFilter. Every chip is a
link to the same page with one filter changed, so the state lives in the URL (Back, reloads and shared links work)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gallery.models import Album
from gallery.search import ORIENTATIONS, PhotoFilter
from processing import formats


@dataclass
class Toggle:
    label: str
    href: str
    pressed: bool


@dataclass
class ActiveChip:
    label: str
    remove_href: str


@dataclass
class FilterBar:
    filters: PhotoFilter
    base_url: str
    problem: str = ""
    toggles: list[Toggle] = field(default_factory=list)
    chips: list[ActiveChip] = field(default_factory=list)
    albums: list[Album] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        return " ".join(self.filters.q)

    @property
    def clear_href(self) -> str:
        return self.base_url


def link(base_url: str, query: str) -> str:
    return f"{base_url}?{query}" if query else base_url


def filter_bar(filters: PhotoFilter, *, base_url: str, problem: str = "", favourites: bool = True) -> FilterBar:
    bar = FilterBar(filters, base_url, problem)
    bar.albums = list(Album.objects.order_by("name").only("pk", "name"))
    bar.formats = sorted(formats.FORMATS)

    def href(**changes) -> str:
        return link(base_url, filters.query_string(**changes))

    if favourites:
        bar.toggles.append(Toggle("Favourites", href(favorite="" if filters.favorite else "1"), bool(filters.favorite)))
    for orientation in ORIENTATIONS:
        pressed = filters.orientation == orientation
        bar.toggles.append(Toggle(orientation.capitalize(), href(orientation="" if pressed else orientation), pressed))

    if filters.q:
        bar.chips.append(ActiveChip(f"“{' '.join(filters.q)}”", href(q="")))
    if filters.favorite is False:
        bar.chips.append(ActiveChip("Not favourites", href(favorite="")))
    if filters.taken_after and filters.taken_before:
        label = f"{filters.taken_after:%-d %b %Y} – {filters.taken_before:%-d %b %Y}"
        bar.chips.append(ActiveChip(label, href(taken_after="", taken_before="")))
    elif filters.taken_after:
        bar.chips.append(ActiveChip(f"From {filters.taken_after:%-d %b %Y}", href(taken_after="")))
    elif filters.taken_before:
        bar.chips.append(ActiveChip(f"Until {filters.taken_before:%-d %b %Y}", href(taken_before="")))
    if filters.camera:
        bar.chips.append(ActiveChip(f"Camera: {filters.camera}", href(camera="")))
    if filters.album:
        name = next((album.name for album in bar.albums if album.pk == filters.album), f"#{filters.album}")
        bar.chips.append(ActiveChip(f"Album: {name}", href(album="")))
    if filters.format:
        bar.chips.append(ActiveChip(f"Format: {filters.format.upper()}", href(format="")))
    if filters.sha256:
        bar.chips.append(ActiveChip(f"SHA-256 {filters.sha256[:10]}…", href(sha256="")))
    return bar
