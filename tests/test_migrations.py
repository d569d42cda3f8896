"""The frames app took over the frame tables the gallery app had created (gallery 0004 and frames 0001 move the
models' state, frames 0002 their content types). A database from before the move, holding every kind of frame row,
an admin permission and an admin log entry, migrates to the latest schema with nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from gallery.frames.models import Frame, FrameSchedule, PairingCode, Playlist, PlaylistAlbum, PlaylistItem
from gallery.models import Album, Photo

# The last state before the frames app existed: its models lived in the gallery app (gallery 0003_frames).
BEFORE_FRAMES_APP = [("gallery", "0003_frames"), ("frames", None)]
FRAME_MODELS = ("playlist", "playlistitem", "playlistalbum", "frame", "frameschedule", "pairingcode")


def migrate(targets=None):
    """Migrate the test database to targets (default: the latest migrations); the historical apps of the result."""
    executor = MigrationExecutor(connection)
    state = executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()  # content types change under its feet
    return state.apps


def rows_before_the_frames_app(apps) -> dict:
    """Frame rows of every kind, written through the models as they were at gallery 0003_frames."""
    assert not apps.is_installed("gallery.frames")  # really the old world: the gallery app owns these models
    Photo_ = apps.get_model("gallery", "Photo")
    photos = [
        Photo_.objects.create(
            sha256=f"{number}".ljust(64, "0"),
            original=f"originals/{number}.jpg",
            original_name=f"IMG_{number}.jpg",
            format="JPEG",
            file_size=1000,
            width=1200,
            height=800,
            status="ready",
        )  # fmt: skip
        for number in (1, 2)
    ]
    album = apps.get_model("gallery", "Album").objects.create(name="Summer")
    Playlist_ = apps.get_model("gallery", "Playlist")
    hall = Playlist_.objects.create(name="Hall", interval=45, transition="kenburns", shuffle=True, captions=True)
    night = Playlist_.objects.create(name="Night")
    item_model = apps.get_model("gallery", "PlaylistItem")
    items = [item_model.objects.create(playlist=hall, photo=photo, position=n) for n, photo in enumerate(photos)]
    followed = apps.get_model("gallery", "PlaylistAlbum").objects.create(playlist=hall, album=album)
    frame = apps.get_model("gallery", "Frame").objects.create(
        name="Kitchen", time_zone="Europe/Berlin", secret_digest="d" * 64, screen_width=1920, screen_height=1080,
        playlist=hall, showing=photos[1], connections=1,
    )  # fmt: skip
    window = apps.get_model("gallery", "FrameSchedule").objects.create(
        frame=frame, weekdays="01234", start=time(22), end=time(6), action="playlist", playlist=night, priority=2
    )
    expires = timezone.now() + timedelta(minutes=10)
    code = apps.get_model("gallery", "PairingCode").objects.create(
        code="HJK2MN", claim_digest="c" * 64, expires_at=expires, confirmed_at=timezone.now(), frame=frame
    )

    # What Django's post_migrate made for the old models (the test database may hold them already, moved back by
    # frames 0002's reverse), and what an admin did with them.
    ContentType_ = apps.get_model("contenttypes", "ContentType")
    content_types = {
        model: ContentType_.objects.get_or_create(app_label="gallery", model=model)[0].pk for model in FRAME_MODELS
    }
    Permission_ = apps.get_model("auth", "Permission")
    change_frame, _ = Permission_.objects.get_or_create(
        content_type_id=content_types["frame"], codename="change_frame", defaults={"name": "Can change frame"}
    )
    keeper = apps.get_model("auth", "User").objects.create(username="keeper", password="!", is_staff=True)
    keeper.user_permissions.add(change_frame)
    entry = apps.get_model("admin", "LogEntry").objects.create(
        user=keeper, content_type_id=content_types["frame"], object_id=str(frame.pk), object_repr="Kitchen",
        action_flag=CHANGE, change_message='[{"changed": {"fields": ["Name"]}}]',
    )  # fmt: skip
    return {
        "photos": [photo.pk for photo in photos],
        "album": album.pk,
        "hall": hall.pk,
        "night": night.pk,
        "items": [item.pk for item in items],
        "followed": followed.pk,
        "frame": frame.pk,
        "window": window.pk,
        "code": code.pk,
        "expires": expires,
        "content_types": content_types,
        "permission": change_frame.pk,
        "keeper": keeper.pk,
        "entry": entry.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_frame_rows_permissions_and_log_entries_survive_the_move_to_the_frames_app():
    try:
        old = rows_before_the_frames_app(migrate(BEFORE_FRAMES_APP))
        latest_apps = migrate()
    finally:
        migrate()  # whatever happened, later tests get the normal schema (a no-op when already there)
    assert latest_apps.get_model("frames", "Frame")._meta.db_table == "gallery_frame"

    hall = Playlist.objects.get(pk=old["hall"])
    assert (hall.name, hall.interval, hall.transition, hall.shuffle, hall.captions) == (
        "Hall", 45, "kenburns", True, True
    )  # fmt: skip
    assert list(hall.items.values_list("pk", "photo_id", "position")) == [
        (old["items"][0], old["photos"][0], 0),
        (old["items"][1], old["photos"][1], 1),
    ]
    assert hall.photo_ids() == old["photos"]
    assert PlaylistAlbum.objects.get(pk=old["followed"]).album_id == old["album"]
    assert list(hall.albums.all()) == [Album.objects.get(pk=old["album"])]
    assert list(Playlist.objects.values_list("name", flat=True)) == ["Hall", "Night"]

    frame = Frame.objects.select_related("playlist", "showing").get(pk=old["frame"])
    assert (frame.name, frame.time_zone, frame.secret_digest) == ("Kitchen", "Europe/Berlin", "d" * 64)
    assert (frame.screen_width, frame.screen_height, frame.connections) == (1920, 1080, 1)
    assert frame.playlist == hall and frame.showing == Photo.objects.get(pk=old["photos"][1])
    assert list(frame.schedules.values_list("pk", "weekdays", "start", "end", "action", "playlist_id", "priority")) == [
        (old["window"], "01234", time(22), time(6), "playlist", old["night"], 2)
    ]
    assert FrameSchedule.objects.count() == 1
    code = PairingCode.objects.get(pk=old["code"])
    assert (code.code, code.claim_digest, code.frame_id, code.expires_at) == (
        "HJK2MN", "c" * 64, frame.pk, old["expires"]
    )  # fmt: skip
    assert code.confirmed_at is not None and code.claimed_at is None
    assert PlaylistItem.objects.count() == 2 and PairingCode.objects.count() == 1

    # The content types moved (the same rows, not new ones): the permission and the log entry follow the models.
    for model, pk in old["content_types"].items():
        content_type = ContentType.objects.get(pk=pk)
        assert (content_type.app_label, content_type.model) == ("frames", model)
    assert ContentType.objects.get_for_model(Frame).pk == old["content_types"]["frame"]
    assert not ContentType.objects.filter(app_label="gallery", model__in=FRAME_MODELS).exists()
    keeper = get_user_model().objects.get(pk=old["keeper"])
    assert keeper.has_perm("frames.change_frame")
    assert not keeper.has_perm("gallery.change_frame") and not keeper.has_perm("frames.delete_frame")
    entry = LogEntry.objects.get(pk=old["entry"])
    assert entry.content_type == ContentType.objects.get_for_model(Frame)
    assert entry.get_edited_object() == frame
    assert entry.get_admin_url() == f"/admin/frames/frame/{frame.pk}/change/"


@pytest.mark.django_db(transaction=True)
def test_photos_from_before_library_month_get_theirs_in_the_servers_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    try:
        apps = migrate([("gallery", "0014_photo_library_month")])
        Photo_ = apps.get_model("gallery", "Photo")
        moments = {
            # Taken 1 March 03:00 UTC: still February in New York.
            "taken": (datetime(2024, 3, 1, 3, tzinfo=UTC), datetime(2025, 1, 5, tzinfo=UTC)),
            # No date taken: the upload's month, 1 June 02:00 UTC being 31 May in New York.
            "uploaded": (None, datetime(2023, 6, 1, 2, tzinfo=UTC)),
        }
        ids = {}
        for number, (name, (taken_at, created_at)) in enumerate(moments.items()):
            ids[name] = Photo_.objects.create(
                sha256=f"m{number}".ljust(64, "0"), original=f"originals/m{number}.jpg", format="JPEG",
                file_size=1, width=1, height=1, taken_at=taken_at, created_at=created_at,
            ).pk  # fmt: skip
        assert Photo_.objects.filter(library_month__isnull=False).count() == 0
        migrate()
    finally:
        migrate()
    months = dict(Photo.objects.values_list("pk", "library_month"))
    assert str(months[ids["taken"]]) == "2024-02-01"
    assert str(months[ids["uploaded"]]) == "2023-05-01"


@pytest.mark.django_db(transaction=True)
def test_photos_from_before_library_at_are_ordered_by_date_taken_else_upload():
    try:
        apps = migrate([("gallery", "0017_photo_caption")])
        Photo_ = apps.get_model("gallery", "Photo")
        taken = Photo_.objects.create(
            sha256="t".ljust(64, "0"), original="originals/t.jpg", format="JPEG", file_size=1, width=1, height=1,
            taken_at=datetime(2020, 5, 1, tzinfo=UTC), created_at=datetime(2025, 1, 1, tzinfo=UTC),
        ).pk  # fmt: skip
        uploaded = Photo_.objects.create(
            sha256="u".ljust(64, "0"), original="originals/u.jpg", format="JPEG", file_size=1, width=1, height=1,
            created_at=datetime(2022, 2, 2, tzinfo=UTC),
        ).pk  # fmt: skip
        migrate()
    finally:
        migrate()
    assert dict(Photo.objects.values_list("pk", "library_at")) == {
        taken: datetime(2020, 5, 1, tzinfo=UTC),
        uploaded: datetime(2022, 2, 2, tzinfo=UTC),
    }
    assert list(Photo.objects.library_order().values_list("pk", flat=True)) == [uploaded, taken]
