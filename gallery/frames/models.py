"""Frames: wall displays, their playlists and schedules (docs/frames.md).

The tables kept the names they had when these models lived in the gallery app (gallery_frame, ...).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from gallery.models import Album, AlbumPhoto, DisplaySize, Photo


class Playlist(models.Model):
    class Transition(models.TextChoices):
        FADE = "fade", "Cross-fade"
        SLIDE = "slide", "Slide"
        KEN_BURNS = "kenburns", "Ken Burns (slow zoom and pan)"
        NONE = "none", "None"

    name = models.CharField(max_length=200)
    interval = models.PositiveIntegerField(default=30, help_text="Seconds each photo stays on screen")
    transition = models.CharField(max_length=16, choices=Transition.choices, default=Transition.FADE)
    shuffle = models.BooleanField(default=False)
    captions = models.BooleanField(default=False, help_text="Show the date taken and the album")
    # Albums whose photos follow the playlist's own items, kept in sync as the album changes.
    albums = models.ManyToManyField(Album, through="PlaylistAlbum", related_name="playlists", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "gallery_playlist"
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(interval__gte=3), name="playlist_interval_min")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("playlist", args=[self.pk])

    def photo_ids(self) -> list[int]:
        """The playlist's photos in order: its own items, then the photos of the albums it follows."""
        ids = list(self.items.order_by("position", "id").values_list("photo_id", flat=True))
        seen = set(ids)
        followed = (
            AlbumPhoto.objects.filter(album__playlist_links__playlist=self)
            .order_by("album__name", "album_id", "added_at", "id")
            .values_list("photo_id", flat=True)
        )
        for photo_id in followed:
            if photo_id not in seen:
                seen.add(photo_id)
                ids.append(photo_id)
        return ids

    def contains_photo(self, photo_id: int) -> bool:
        return (
            self.items.filter(photo_id=photo_id).exists()
            or AlbumPhoto.objects.filter(album__playlist_links__playlist=self, photo_id=photo_id).exists()
        )


class PlaylistItem(models.Model):
    """A photo in a playlist. Deleting a playlist deletes these rows, never the photos."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="playlist_items")
    position = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "gallery_playlistitem"
        constraints = [models.UniqueConstraint(fields=["playlist", "photo"], name="unique_photo_per_playlist")]
        indexes = [models.Index(fields=["playlist", "position"], name="playlist_item_order")]
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.playlist_id}/{self.photo_id}@{self.position}"


class PlaylistAlbum(models.Model):
    """ "All of album X" in a playlist: read live, so the playlist follows the album."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="album_links")
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="playlist_links")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "gallery_playlistalbum"
        constraints = [models.UniqueConstraint(fields=["playlist", "album"], name="unique_album_per_playlist")]

    def __str__(self):
        return f"{self.playlist_id}/album {self.album_id}"


def server_time_zone() -> str:
    return settings.TIME_ZONE


class Frame(models.Model):
    """A paired wall display. Not a user: it holds a secret cookie whose SHA-256 is stored here."""

    name = models.CharField(max_length=100)
    playlist = models.ForeignKey(
        Playlist, null=True, blank=True, on_delete=models.SET_NULL, related_name="frames", help_text="Default playlist"
    )
    time_zone = models.CharField(max_length=64, default=server_time_zone, help_text="IANA name, e.g. Europe/Berlin")
    secret_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    secret_issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the frame last reported: physical pixels, i.e. CSS pixels x devicePixelRatio.
    screen_width = models.PositiveIntegerField(null=True, blank=True)
    screen_height = models.PositiveIntegerField(null=True, blank=True)
    # The display size bucket that screen snaps to (gallery/frames/screens.py): what the renderer makes for it.
    display_size = models.ForeignKey(
        DisplaySize, null=True, blank=True, on_delete=models.SET_NULL, related_name="frames", editable=False
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    connections = models.PositiveSmallIntegerField(default=0, help_text="Open websockets")
    showing = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The schedule's last applied decision (schedules.Program.key: "default:<playlist id>", "blank:<window id>" or
    # "playlist:<playlist id>:<window id>"), so the minute job pushes only changes.
    schedule_state = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "gallery_frame"
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("frame-detail", args=[self.pk])

    @property
    def is_paired(self) -> bool:
        return bool(self.secret_digest) and self.revoked_at is None

    @property
    def screen_size(self) -> str:
        return f"{self.screen_width}×{self.screen_height}" if self.screen_width and self.screen_height else ""


class FrameSchedule(models.Model):
    """A weekly time window that switches a frame to another playlist, or blanks it."""

    class Action(models.TextChoices):
        PLAYLIST = "playlist", "Show a playlist"
        BLANK = "blank", "Blank the screen"

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="schedules")
    weekdays = models.CharField(max_length=7, help_text="Digits 0 (Monday) to 6 (Sunday) the window starts on")
    start = models.TimeField()
    end = models.TimeField(help_text="Before start: the window ends the next day")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.PLAYLIST)
    playlist = models.ForeignKey(Playlist, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.IntegerField(default=0, help_text="Higher wins where windows overlap")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "gallery_frameschedule"
        ordering = ["-priority", "id"]

    def __str__(self):
        return f"{self.frame_id}: {self.weekdays} {self.start:%H:%M}-{self.end:%H:%M} {self.action}"


class PairingCode(models.Model):
    """A short code an unpaired browser shows; single use, valid for ten minutes.

    The code alone is not a credential: the browser that asked for it also holds a random claim token (a
    cookie, stored hashed here), and only that browser receives the frame's secret after an admin confirms.
    """

    code = models.CharField(max_length=12, unique=True)
    claim_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    frame = models.ForeignKey(Frame, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Who asked for the code, shown to the admin before confirming (a phished code shows a stranger's browser).
    requested_from = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "gallery_pairingcode"

    def __str__(self):
        return self.code
