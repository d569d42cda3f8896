"""`manage.py import`: a tree with nested folders, a Google Takeout folder with sidecars, XMP, non-images,
duplicates, an unreadable file and symlink loops; the summary, the dates, the bulk queue, a second run, --move,
--dry-run and the albums; and the sidecar name rules on their own."""

from __future__ import annotations

import io
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from gallery import importing, services, sidecars, storage
from gallery.importing import Progress
from gallery.models import CAPTION_MAX_LENGTH, Album, Photo
from gallery.services import sha256_of
from processing import jobs
from tests import private_redis

pytestmark = pytest.mark.django_db

# Fixtures: a Redis server of this module's own, so the queues can be counted.
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn

TAKEN_2015 = datetime(2015, 6, 1, 9, 30, tzinfo=UTC)


def jpeg(
    path: Path,
    colour: tuple[int, int, int],
    *,
    exif_date: str | None = None,
    size=(64, 48),
    description: str = "",
    xmp: bytes = b"",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if exif_date:
        exif.get_ifd(0x8769)[0x9003] = exif_date  # DateTimeOriginal
    if description:
        exif[0x010E] = description  # ImageDescription
    image.save(path, "JPEG", exif=exif.tobytes(), **({"xmp": xmp} if xmp else {}))
    return path


def takeout_json(
    path: Path, *, taken: datetime, title: str, latitude=0.0, longitude=0.0, description: str = ""
) -> None:
    path.write_text(
        json.dumps(
            {
                "title": title,
                "description": description,
                "photoTakenTime": {"timestamp": str(int(taken.timestamp())), "formatted": "…"},
                "geoData": {"latitude": latitude, "longitude": longitude, "altitude": 0.0},
            }
        )
    )


def unreadable(path: Path) -> None:
    """A file this process cannot read. Root reads any file whatever its mode, so as root a Unix socket stands in
    (open() fails on one, as on a file without read permission)."""
    if os.geteuid() != 0:
        jpeg(path, (1, 2, 3))
        path.chmod(0)
        return
    server = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    os.chdir(path.parent)  # bound by its short relative name: a socket's path may not exceed 107 bytes
    try:
        server.bind(path.name)
    finally:
        os.chdir(cwd)
        server.close()


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "photos"
    jpeg(root / "2019" / "trip" / "beach.jpg", (200, 10, 10), exif_date="2019:07:04 12:30:00")
    Image.new("RGB", (30, 40), (0, 200, 0)).save(root / "2019" / "drawing.png")
    (root / "copy-of-beach.jpg").write_bytes((root / "2019" / "trip" / "beach.jpg").read_bytes())
    (root / "notes.txt").write_text("not a photo")
    (root / "damaged.jpg").write_bytes(jpeg(tmp_path / "whole.jpg", (9, 9, 9), size=(300, 300)).read_bytes()[:400])
    unreadable(root / "locked.jpg")
    (root / "loop").symlink_to(root)  # a folder link back up the tree
    (root / "self").symlink_to(root / "self")  # a link to itself: ELOOP

    takeout = root / "Takeout" / "Google Photos" / "Photos from 2015"
    jpeg(takeout / "IMG_0001.jpg", (10, 10, 200))
    takeout_json(takeout / "IMG_0001.jpg.json", taken=TAKEN_2015, title="IMG_0001.jpg", latitude=64.1, longitude=-21.9)
    jpeg(takeout / "IMG_0001(1).jpg", (10, 200, 200))  # a second IMG_0001.jpg: its sidecar is IMG_0001.jpg(1).json
    takeout_json(takeout / "IMG_0001.jpg(1).json", taken=datetime(2015, 7, 2, tzinfo=UTC), title="IMG_0001.jpg")
    long_name = "Screenshot_20151224-101010_A_very_long_app_name.jpg"
    jpeg(takeout / long_name, (100, 100, 10))
    sidecar = (long_name + ".supplemental-metadata")[: sidecars.TAKEOUT_NAME_LIMIT] + ".json"
    takeout_json(takeout / sidecar, taken=datetime(2015, 12, 24, 10, tzinfo=UTC), title=long_name)
    (takeout / "metadata.json").write_text(json.dumps({"title": "Photos from 2015"}))
    jpeg(takeout / "IMG_0002.jpg", (50, 50, 50), exif_date="2015:08:08 08:08:08")
    (takeout / "IMG_0002.MOV").write_bytes(b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 64)
    (takeout / "IMG_0002.AAE").write_text("<?xml version='1.0'?><plist></plist>")

    jpeg(root / "scans" / "grandma.jpg", (120, 60, 30))
    (root / "scans" / "grandma.jpg.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:DateTimeOriginal="1962-05-20T14:00:00+01:00"'
        ' exif:GPSLatitude="48,51.5N" exif:GPSLongitude="2,21W" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Grandma in Paris</rdf:li></rdf:Alt></dc:title>'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Easter 1962</rdf:li></rdf:Alt></dc:description>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return root


def run_import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        raise CommandError(f"{exc}\n--- output ---\n{out.getvalue()}{err.getvalue()}") from None
    return out.getvalue(), err.getvalue()


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def test_import_of_a_mixed_tree_counts_dates_and_queues_right(
    tree, user, redis_conn, var_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run_import(tree)
    lines = out.splitlines()
    assert lines[0] == "7 new, 1 already in the library, 7 skipped, 0 failed", out
    assert "  already: 1 same as another file of this import" in lines
    skipped = next(line for line in lines if line.startswith("  skipped: "))
    for part in (
        "2 symlink loop",
        "1 not an image",
        "1 damaged",
        "1 unreadable",
        "1 Live Photo video",
        "1 .AAE edit file",
    ):
        assert part in skipped, skipped
    assert "  note: 4 photos took their date or place from a sidecar file." in lines

    assert Photo.objects.count() == 7
    photos = {photo.original_name: photo for photo in Photo.objects.all()}
    assert set(photos) == {
        "beach.jpg",
        "drawing.png",
        "IMG_0001.jpg",  # both: Takeout's title is the name before the (1)
        "Screenshot_20151224-101010_A_very_long_app_name.jpg",
        "IMG_0002.jpg",
        "grandma.jpg",
    }
    assert all(photo.uploaded_by == user for photo in photos.values())
    # The renders wait on the bulk queue, below people's uploads.
    assert redis_conn.llen("rq:queue:bulk") == 7
    assert redis_conn.llen("rq:queue:thumbs") == 0

    # The render reads the file's own metadata; a sidecar's date and place survive it when the file has none.
    for photo in Photo.objects.all():
        assert jobs.render_now(photo.pk) == "ready"
    by_colour = {photo.sha256: photo for photo in Photo.objects.all()}
    takeout = Photo.objects.get(pk=_pk_of(tree / "Takeout/Google Photos/Photos from 2015/IMG_0001.jpg", by_colour))
    assert takeout.taken_at == TAKEN_2015
    assert (takeout.gps_latitude, takeout.gps_longitude) == (64.1, -21.9)
    assert takeout.library_month.isoformat() == "2015-06-01"
    second = Photo.objects.get(pk=_pk_of(tree / "Takeout/Google Photos/Photos from 2015/IMG_0001(1).jpg", by_colour))
    assert second.taken_at == datetime(2015, 7, 2, tzinfo=UTC)
    long = Photo.objects.get(
        pk=_pk_of(
            tree / "Takeout/Google Photos/Photos from 2015/Screenshot_20151224-101010_A_very_long_app_name.jpg",
            by_colour,
        )
    )
    assert long.taken_at == datetime(2015, 12, 24, 10, tzinfo=UTC)
    beach = Photo.objects.get(pk=_pk_of(tree / "2019/trip/beach.jpg", by_colour))
    assert beach.taken_date.isoformat() == "2019-07-04"  # the file's own EXIF date
    grandma = Photo.objects.get(pk=_pk_of(tree / "scans/grandma.jpg", by_colour))
    assert grandma.taken_at_offset == "+01:00"
    assert grandma.taken_date.isoformat() == "1962-05-20"
    assert (round(grandma.gps_latitude, 4), round(grandma.gps_longitude, 2)) == (48.8583, -2.35)
    assert grandma.caption == "Easter 1962"  # the XMP sidecar's dc:description, kept through the render
    assert takeout.caption == "" and beach.caption == ""

    # The second run hashes nothing new and adds nothing; the source was never touched.
    out_again, _ = run_import(tree)
    assert out_again.splitlines()[0] == "0 new, 8 already in the library, 7 skipped, 0 failed", out_again
    assert Photo.objects.count() == 7
    assert (tree / "2019" / "trip" / "beach.jpg").exists() and (tree / "notes.txt").exists()


def _pk_of(path: Path, photos_by_sha: dict) -> int:
    return photos_by_sha[sha256_of(str(path))].pk


def test_the_second_run_uses_the_cache_and_hashes_nothing(tree, user, redis_conn, var_dir, monkeypatch):
    run_import(tree)

    def no_hashing(path):
        raise AssertionError(f"hashed {path} again")

    monkeypatch.setattr(importing, "sha256_of", no_hashing)
    out, _ = run_import(tree)
    assert out.startswith("0 new, 8 already in the library, 7 skipped, 0 failed")


def test_a_takeout_description_becomes_the_caption_unless_the_file_has_its_own(tmp_path, user, redis_conn, var_dir):
    folder = tmp_path / "Takeout" / "Google Photos" / "Iceland"
    jpeg(folder / "puffins.jpg", (10, 60, 90))
    takeout_json(
        folder / "puffins.jpg.supplemental-metadata.json",
        taken=TAKEN_2015,
        title="puffins.jpg",
        description="Puffins at Látrabjarg\n<b>second</b> day",
    )
    jpeg(folder / "cliff.jpg", (90, 60, 10), description="Written in the camera")
    takeout_json(folder / "cliff.jpg.json", taken=TAKEN_2015, title="cliff.jpg", description="From Google")
    embedded = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        "Written in Lightroom</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    jpeg(folder / "edited.jpg", (30, 30, 90), xmp=embedded.encode())
    takeout_json(folder / "edited.jpg.json", taken=TAKEN_2015, title="edited.jpg", description="From Google")
    jpeg(folder / "stock.jpg", (60, 90, 10), description="OLYMPUS DIGITAL CAMERA")
    takeout_json(folder / "stock.jpg.json", taken=TAKEN_2015, title="stock.jpg", description="From Google too")
    jpeg(folder / "long.jpg", (60, 10, 90))
    takeout_json(folder / "long.jpg.json", taken=TAKEN_2015, title="long.jpg", description="word " * 1000)

    out, _ = run_import(tmp_path / "Takeout")

    assert out.startswith("5 new"), out
    captions = dict(Photo.objects.values_list("original_name", "caption"))
    assert captions["puffins.jpg"] == "Puffins at Látrabjarg\n<b>second</b> day"
    assert captions["cliff.jpg"] == "Written in the camera"
    assert captions["edited.jpg"] == "Written in Lightroom"  # the XMP packet inside the file
    assert captions["stock.jpg"] == "From Google too"  # a camera's stock text is no caption
    assert len(captions["long.jpg"]) == CAPTION_MAX_LENGTH


def test_each_file_is_hashed_once(tmp_path, user, redis_conn, var_dir, monkeypatch):
    jpeg(tmp_path / "photos" / "one.jpg", (1, 100, 1))
    jpeg(tmp_path / "photos" / "two.jpg", (100, 1, 1))
    hashed = []

    def counting(path):
        hashed.append(path)
        return sha256_of(path)

    # The importer hashes the source for its duplicate check; storing must not hash the copy again.
    monkeypatch.setattr(importing, "sha256_of", counting)
    monkeypatch.setattr(services, "sha256_of", counting)
    out, _ = run_import(tmp_path / "photos")

    assert out.startswith("2 new"), out
    assert sorted(Path(path).name for path in hashed) == ["one.jpg", "two.jpg"]
    assert set(Photo.objects.values_list("sha256", flat=True)) == {
        sha256_of(str(tmp_path / "photos" / name)) for name in ("one.jpg", "two.jpg")
    }


def test_a_photo_purged_since_the_last_run_comes_back(tree, user, redis_conn, var_dir):
    run_import(tree)
    Photo.objects.filter(original_name="drawing.png").delete()
    out, _ = run_import(tree)
    assert out.startswith("1 new, 7 already in the library")


def test_copies_of_a_file_that_is_not_a_photo_are_skipped_alike(tmp_path, user, var_dir):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("same words")
    (tmp_path / "a" / "notes copy.txt").write_text("same words")
    assert run_import(tmp_path / "a")[0].splitlines()[:2] == [
        "0 new, 0 already in the library, 2 skipped, 0 failed",
        "  skipped: 2 not an image",
    ]


def test_dry_run_stores_nothing(tree, user, redis_conn, var_dir):
    out, _ = run_import(tree, "--dry-run")
    assert out.splitlines()[:2] == [
        "Dry run: nothing was stored.",
        "7 new, 1 already in the library, 7 skipped, 0 failed",
    ]
    assert Photo.objects.count() == 0
    assert not (var_dir / "import-cache.sqlite3").exists()


def test_move_deletes_only_what_the_library_holds(tree, user, redis_conn, var_dir):
    run_import(tree, "--move")
    assert not (tree / "2019" / "trip" / "beach.jpg").exists()
    assert not (tree / "copy-of-beach.jpg").exists()  # the same photo: the library holds it
    assert (tree / "notes.txt").exists() and (tree / "damaged.jpg").exists()
    assert (tree / "Takeout/Google Photos/Photos from 2015/IMG_0001.jpg.json").exists()  # sidecars stay


def test_albums_per_folder_and_by_name(tree, user, redis_conn, var_dir):
    run_import(tree / "2019", tree / "scans", "--album-per-folder", "--album", "Imported")
    assert set(Album.objects.values_list("name", flat=True)) == {"2019", "trip", "scans", "Imported"}
    assert Album.objects.get(name="Imported").photos.count() == 3
    assert Album.objects.get(name="trip").photos.get().original_name == "beach.jpg"
    assert Album.objects.get(name="trip").owner == user


def test_a_storage_failure_is_failed_and_exits_non_zero(tree, user, redis_conn, var_dir, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "store_file", full_disk)
    out = io.StringIO()
    with pytest.raises(CommandError, match="8 failed; run the import again"):
        call_command("import", str(tree), stdout=out, stderr=io.StringIO())
    # The copy of a photo that failed tries again, and fails the same way.
    assert out.getvalue().startswith("0 new, 0 already in the library, 7 skipped, 8 failed")
    assert "  failed: 8 storage error (No space left on device)" in out.getvalue()
    assert Photo.objects.count() == 0
    monkeypatch.undo()
    assert run_import(tree)[0].startswith("7 new, 1 already in the library, 7 skipped, 0 failed")


def test_without_redis_it_stops_before_storing_anything(tree, user, var_dir, settings, tmp_path):
    dead = f"unix://{tmp_path / 'no-redis.sock'}"
    settings.RQ_QUEUES = {name: dict(config, URL=dead) for name, config in settings.RQ_QUEUES.items()}
    with pytest.raises(CommandError, match="Redis does not answer .*; nothing was imported"):
        run_import(tree)
    assert Photo.objects.count() == 0
    assert run_import(tree, "--dry-run")[0].startswith("Dry run")  # a dry run queues nothing: no Redis needed


def test_beside_make_run_it_finds_the_private_redis(
    tree, user, var_dir, settings, private_redis_url, redis_conn, monkeypatch
):
    """`make run` tells only its children where its Redis is; an import in a second terminal looks under VAR_DIR."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    (var_dir / "redis").mkdir(parents=True)
    (var_dir / "redis" / "valkey.sock").symlink_to(private_redis_url.removeprefix("unix://"))
    default = "redis://127.0.0.1:6379/0"
    settings.REDIS_URL = default
    settings.RQ_QUEUES = {name: dict(config, URL=default) for name, config in settings.RQ_QUEUES.items()}
    settings.CACHES, settings.CHANNEL_LAYERS = settings.CACHES, settings.CHANNEL_LAYERS  # restored after the test
    out, _ = run_import(tree / "2019")
    assert out.startswith("2 new")
    assert settings.RQ_QUEUES["bulk"]["URL"] == f"unix://{var_dir / 'redis' / 'valkey.sock'}"


def test_user_and_paths_are_checked(tree, user, var_dir):
    with pytest.raises(CommandError, match="No such file or folder"):
        run_import(tree / "nope")
    with pytest.raises(CommandError, match="No active account named 'carol'"):
        run_import(tree, "--user", "carol")


@pytest.mark.parametrize(
    ("media", "sidecar"),
    [
        ("IMG_1234.jpg", "IMG_1234.jpg.json"),
        ("IMG_1234.jpg", "IMG_1234.jpg.supplemental-metadata.json"),
        ("IMG_1234.jpg", "IMG_1234.json"),
        ("IMG_1234(1).jpg", "IMG_1234.jpg(1).json"),
        ("IMG_1234(1).jpg", "IMG_1234.jpg.supplemental-metadata(1).json"),
        ("IMG_1234-edited.jpg", "IMG_1234.jpg.json"),
        ("PXL_20230518_063900146.PORTRAIT.jpg", "PXL_20230518_063900146.PORTRAIT.jpg.supplemental-me.json"),
        ("PXL_20230518_063900146.jpg", "PXL_20230518_063900146.jpg.supplemental-metada.json"),
        (
            "Screenshot_2019-05-05-11-12-13-456_com.example.verylongapp.png",
            "Screenshot_2019-05-05-11-12-13-456_com.example..json",
        ),
    ],
)
def test_takeout_sidecar_names(media, sidecar, tmp_path):
    names = frozenset({media, sidecar, "other.jpg.json"})
    assert sidecars.takeout_sidecar(tmp_path / media, names) == tmp_path / sidecar


def test_xmp_title_and_description_are_read_but_never_taken_for_a_file_name(tree):
    data = sidecars.read_xmp(tree / "scans" / "grandma.jpg.xmp")
    assert (data.title, data.description, data.file_name) == ("Grandma in Paris", "Easter 1962", "")
    assert data.taken_at.isoformat() == "1962-05-20T14:00:00+01:00"


def test_a_counter_never_matches_the_sidecar_of_another_copy(tmp_path):
    names = frozenset({"IMG_1234.jpg", "IMG_1234(1).jpg", "IMG_1234.jpg.json", "IMG_1234.jpg(1).json"})
    assert sidecars.takeout_sidecar(tmp_path / "IMG_1234.jpg", names).name == "IMG_1234.jpg.json"
    assert sidecars.takeout_sidecar(tmp_path / "IMG_1234(1).jpg", names).name == "IMG_1234.jpg(1).json"
    assert sidecars.takeout_sidecar(tmp_path / "IMG_9.jpg", names) is None


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_in_place_on_a_terminal_and_writes_lines_elsewhere():
    terminal = FakeTerminal()
    bar = Progress(2, terminal)
    bar.step()
    bar.step()
    bar.finish()
    drawn = terminal.getvalue()
    assert drawn.startswith("\r[") and drawn.count("\n") == 1 and drawn.endswith("\n")  # one line, redrawn
    assert "\r[##############################] 2/2  " in drawn and "files/s  ETA 0:00" in drawn

    log = io.StringIO()
    plain = Progress(3, log, plain_every=0)
    for _ in range(3):
        plain.step()
    plain.finish()
    lines = log.getvalue().splitlines()
    assert [line.split("]")[1].split()[0] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "\r" not in log.getvalue()
