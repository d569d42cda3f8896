"""Duplicates that are really duplicates: the grouping rule against a brute-force version of it, flat images
never grouped, "not duplicates" for good, and the API."""

import random

import pytest
from PIL import Image

from gallery import duplicates
from gallery.duplicates import MAX_DISTANCE, group, hamming
from gallery.models import Photo
from processing.imaging import difference_hash
from tests.gallery_factories import make_photo_row


def brute_force(ordered, max_distance=MAX_DISTANCE, apart=frozenset()):
    """The rule, read literally: O(n^2)."""
    grouped, groups = set(), []
    for i, (leader, value) in enumerate(ordered):
        if leader in grouped:
            continue
        grouped.add(leader)
        members = [leader]
        for other, other_value in ordered[i + 1 :]:
            if other in grouped or hamming(value, other_value) > max_distance:
                continue
            if frozenset((leader, other)) in apart:
                continue
            grouped.add(other)
            members.append(other)
        if len(members) > 1:
            groups.append(members)
    return groups


def flip(value: int, bits: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


@pytest.mark.parametrize("seed", range(6))
def test_grouping_matches_brute_force_on_planted_clusters_and_random_hashes(seed):
    rng = random.Random(seed)
    hashes = []
    for _ in range(40):  # bases with copies 0-6 bits away, some copies of copies (chains the rule must not follow)
        base = rng.getrandbits(64)
        hashes.append(base)
        for _ in range(rng.randrange(0, 5)):
            copy = flip(base, rng.randrange(0, 7), rng)
            hashes.append(copy)
            hashes.append(flip(copy, rng.randrange(3, 7), rng))
    hashes += [rng.getrandbits(64) for _ in range(400)]
    ids = rng.sample(range(1, 10**6), len(hashes))
    ordered = list(zip(ids, hashes, strict=True))
    rng.shuffle(ordered)
    apart = {frozenset(rng.sample(ids, 2)) for _ in range(20)}
    assert group(ordered) == brute_force(ordered)
    assert group(ordered, apart=apart) == brute_force(ordered, apart=apart)
    assert group(ordered, max_distance=2) == brute_force(ordered, max_distance=2)
    for members in group(ordered):
        leader = dict(ordered)[members[0]]
        assert all(hamming(leader, dict(ordered)[member]) <= MAX_DISTANCE for member in members)


def test_no_chains_a_copy_of_a_copy_too_far_from_the_first_starts_its_own_group():
    # a and b 4 bits apart, b and c 4 bits apart, a and c 8 bits apart: c does not join a's group.
    a, b = 0, 0b1111
    c = b ^ 0b11110000
    assert hamming(a, b) == 4 and hamming(b, c) == 4 and hamming(a, c) == 8
    assert group([(1, a), (2, b), (3, c)]) == [[1, 2]]
    assert group([(2, b), (1, a), (3, c)]) == [[2, 1, 3]]  # b first: both within 4 of it


def detail_of(image: Image.Image) -> float:
    return difference_hash(image)[1]


def test_flat_and_near_flat_images_have_no_fingerprint():
    rng = random.Random(7)
    noise = Image.new("L", (300, 300))
    noise.putdata([rng.randrange(256) for _ in range(300 * 300)])
    grey_noise = Image.new("L", (300, 300))
    grey_noise.putdata([128 + rng.randrange(-12, 12) for _ in range(300 * 300)])
    flat = [
        Image.new("RGB", (640, 480), (220, 20, 20)),
        Image.new("RGB", (640, 480), (0, 0, 0)),
        Image.linear_gradient("L").resize((640, 480)),  # top to bottom: no left-right difference anywhere
        noise,
        grey_noise,
    ]
    assert all(detail_of(image) < duplicates.MIN_DETAIL for image in flat)
    with Image.open("tests/data/formats/hopper.jpg") as photo:
        photo.thumbnail((400, 400))
        assert detail_of(photo) > 4 * duplicates.MIN_DETAIL


@pytest.mark.django_db
def test_the_library_groups_only_fingerprinted_photos_best_to_keep_first():
    small = make_photo_row(phash="ffff0000ffff0003", width=800, height=600)
    big = make_photo_row(phash="ffff0000ffff0000", width=4000, height=3000)
    older_same_size = make_photo_row(phash="ffff0000ffff0001", width=800, height=600)
    Photo.objects.filter(pk=older_same_size.pk).update(created_at=small.created_at.replace(year=2001))
    flat = [make_photo_row(phash="0000000000000000", phash_detail=0.0) for _ in range(5)]
    unmeasured = make_photo_row(phash="ffff0000ffff0000", phash_detail=None)
    groups = duplicates.duplicate_groups()
    assert groups == [[big.pk, older_same_size.pk, small.pk]]
    assert not {p.pk for p in flat} & {pk for g in groups for pk in g} and unmeasured.pk not in groups[0]


@pytest.mark.django_db
def test_not_duplicates_keeps_a_group_apart_for_good(client_logged_in):
    first, second = make_photo_row(phash="ffff0000ffff0000"), make_photo_row(phash="ffff0000ffff0001")
    assert duplicates.duplicate_groups() == [[first.pk, second.pk]]
    client_logged_in.post("/duplicates/", {"group": [first.pk, second.pk], "dismiss": "1"})
    assert duplicates.duplicate_groups() == []
    third = make_photo_row(phash="ffff0000ffff0003")  # a new copy still groups with them
    assert duplicates.duplicate_groups() == [[first.pk, third.pk]]
    assert Photo.objects.count() == 3


@pytest.mark.django_db
def test_the_api_lists_groups_in_best_to_keep_order(client_logged_in):
    small = make_photo_row(phash="ffff0000ffff0000", width=100, height=100)
    big = make_photo_row(phash="ffff0000ffff0001", width=1000, height=1000)
    make_photo_row(phash="0123456789abcdef")
    response = client_logged_in.get("/api/duplicates/")
    assert response.status_code == 200 and response.json() == {"groups": [[big.pk, small.pk]]}


@pytest.mark.django_db
def test_trashed_photos_are_not_duplicates():
    first, second = make_photo_row(phash="ffff0000ffff0000"), make_photo_row(phash="ffff0000ffff0001")
    from gallery import trash

    assert duplicates.duplicate_groups() == [[first.pk, second.pk]]
    trash.trash_photos(photo_ids=[second.pk])
    assert duplicates.duplicate_groups() == []
