"""Possible duplicates: photos whose difference hashes are a few bits apart.

The rule, exactly: order photos best-to-keep first (most pixels, then oldest); walk that order; a photo not yet
grouped starts a group, and every later ungrouped photo within MAX_DISTANCE bits of that first member joins it.
No chains: every member is within the threshold of its group's first member. Photos whose hash rests on too little
detail (flat colour, near-uniform, noise that averages out) have no fingerprint and are never grouped, and a group
someone marked "not duplicates" stays apart for good.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations, groupby

from django.db import transaction
from django.db.models import F

from gallery.models import DuplicateDismissal, Photo

MAX_DISTANCE = 6  # bits of 64; resized or recompressed copies of one photo differ by a few bits
# Below this (processing.imaging.difference_hash's detail, 0-255) a hash says nothing: photos score 15-30, a flat
# image 0, 300 px noise 2.6.
MIN_DETAIL = 4.0


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def group(
    ordered: Sequence[tuple[int, int]], *, max_distance: int = MAX_DISTANCE, apart=frozenset()
) -> list[list[int]]:
    """Groups of ids from (id, hash) pairs in best-to-keep order, by the rule above; `apart` holds frozensets of
    id pairs that must not share a group.

    Pigeonhole: split the hash into max_distance + 2 bands; two hashes that close agree exactly on at least two
    bands, so only photos that share the values of some pair of bands are compared. A pair of 8-bit bands is a
    16-bit key: over 100,000 random hashes about 1.5 photos share each, where a single 9-bit band (max_distance + 1
    bands) put 200 photos in each bucket and made the comparisons grow with the square of the library."""
    bands = max_distance + 2
    edges = [(64 * i // bands, 64 * (i + 1) // bands) for i in range(bands)]
    values = [value for _, value in ordered]
    columns = [[(value >> low) & ((1 << (high - low)) - 1) for value in values] for low, high in edges]
    positions = range(len(values))
    near: dict[int, set[int]] = defaultdict(set)  # position -> later positions within max_distance
    for first, second in combinations(range(bands), 2):  # one pair of bands at a time: memory stays small
        width = edges[second][1] - edges[second][0]
        keys = [(a << width) | b for a, b in zip(columns[first], columns[second], strict=True)]
        # Sorting and grouping run in C, where a dict of lists would cost a Python step per photo and pair.
        for _, run in groupby(sorted(positions, key=keys.__getitem__), key=keys.__getitem__):
            members = list(run)  # in position order: sorted() is stable
            for earlier, later in combinations(members, 2):
                if hamming(values[earlier], values[later]) <= max_distance:
                    near[earlier].add(later)
    grouped: set[int] = set()
    groups = []
    for position, (leader, _) in enumerate(ordered):
        if position in grouped:
            continue
        grouped.add(position)
        members = [leader]
        for later in sorted(near.get(position, ())):
            other = ordered[later][0]
            if later in grouped or frozenset((leader, other)) in apart:
                continue
            grouped.add(later)
            members.append(other)
        if len(members) > 1:
            groups.append(members)
    return groups


def fingerprinted():
    """Library photos with a fingerprint, best to keep first: most pixels, then oldest."""
    return (
        Photo.objects.exclude(phash="")
        .filter(phash_detail__gte=MIN_DETAIL)
        .annotate(pixels=F("width") * F("height"))
        .order_by("-pixels", "created_at", "id")
    )


def duplicate_groups() -> list[list[int]]:
    ordered = [(pk, int(phash, 16)) for pk, phash in fingerprinted().values_list("pk", "phash")]
    apart = {frozenset(pair) for pair in DuplicateDismissal.objects.values_list("first_id", "second_id")}
    return group(ordered, apart=apart)


@transaction.atomic
def dismiss(*, photo_ids: Iterable[int]) -> None:
    """ "Not duplicates": these photos never share a group again."""
    ids = sorted(set(Photo.objects.filter(pk__in=list(photo_ids)).values_list("pk", flat=True)))
    DuplicateDismissal.objects.bulk_create(
        [DuplicateDismissal(first_id=a, second_id=b) for a, b in combinations(ids, 2)], ignore_conflicts=True
    )
