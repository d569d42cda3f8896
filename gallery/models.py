import functools
import hashlib
import secrets
import uuid
from datetime import date, datetime
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.functional import cached_property

CAPTION_MAX_LENGTH = 2000


@functools.lru_cache(maxsize=8)
def _url_prefix(name: str, script_prefix: str) -> str:
    # A grid page needs hundreds of these URLs; reverse() once per script prefix, then concatenate.
    return reverse(name, args=["0"]).removesuffix("0/").removesuffix("0")


def cheap_url(name: str, value) -> str:
    prefix = _url_prefix(name, get_script_prefix())
    value = quote(str(value), safe="/~:@!$&'()*+,;=")  # as reverse() quotes it
    return f"{prefix}{value}/" if name == "photo" else f"{prefix}{value}"


def month_of(moment: datetime) -> date:
    """The first day of moment's month in TIME_ZONE: the month the library files a photo under."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return local.date().replace(day=1)


class PhotoQuerySet(models.QuerySet):
    def ready(self):
        return self.filter(status=Photo.Status.READY)

    def pending(self):
        return self.filter(status__in=(Photo.Status.QUEUED, Photo.Status.PROCESSING))

    def newest_first(self):
        return self.order_by("-created_at", "-id")

    def with_sort_date(self):
        """Annotate `sort_at`: when the photo was taken, else when it was uploaded (the stored Photo.library_at)."""
        return self.annotate(sort_at=models.F("library_at"))

    def library_order(self):
        """Newest first by date taken (upload time when unknown), matching the `photo_library_in_order` index."""
        return self.with_sort_date().order_by("-sort_at", "-id")

    def in_trash(self):
        return self.filter(trashed_at__isnull=False)


class LibraryManager(models.Manager.from_queryset(PhotoQuerySet)):
    """Photo.objects: the library, without the photos in the trash. Pages, albums, frames, zips, duplicates and the
    API read through it, so a trashed photo is gone everywhere at once. Photo.all_objects sees the trash too (the
    renderer, the sweeper, the trash page, the duplicate check of uploads)."""

    def get_queryset(self):
        return super().get_queryset().filter(trashed_at__isnull=True)


class Location(models.TextChoices):
    """Where a stored file lives (gallery/storage.py): rows say it, so a library half-way through `media_migrate`
    is served from both."""

    LOCAL = "local", "MEDIA_ROOT"
    S3 = "s3", "S3 bucket"


class Photo(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    # Public identifier for file names; never derived from anything the client sent.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    original = models.CharField(max_length=255, editable=False, help_text="Name under MEDIA_ROOT or in the bucket")
    original_location = models.CharField(max_length=8, choices=Location.choices, default=Location.LOCAL, editable=False)
    original_name = models.CharField(max_length=255, blank=True, help_text="As the client named it; display only")
    # The owner's words about the photo (an import's sidecar description, the admin). max_length is checked by forms
    # (the admin) and the importer cuts to it; the database column is a plain text column.
    caption = models.TextField(max_length=CAPTION_MAX_LENGTH, blank=True)
    format = models.CharField(max_length=16, editable=False)
    file_size = models.BigIntegerField(editable=False)
    width = models.PositiveIntegerField(help_text="Upright width in pixels")
    height = models.PositiveIntegerField(help_text="Upright height in pixels")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.CharField(max_length=500, blank=True)
    render_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    taken_at = models.DateTimeField(null=True, blank=True)
    taken_at_offset = models.CharField(max_length=6, blank=True, help_text="UTC offset the camera recorded")
    # The calendar date on the camera's clock (with its offset, else in TIME_ZONE), stored when the metadata is read:
    # date filters, month counts and "on this day" need no database time-zone tables (MariaDB has none by default).
    taken_date = models.DateField(null=True, blank=True, db_index=True, editable=False)
    # month_of(taken_at or created_at), kept by save() and by the renderer when it reads the date taken: the grid's
    # month headings, and the date scrubber's counts as a plain GROUP BY (no time-zone functions in the database).
    library_month = models.DateField(null=True, blank=True, editable=False)  # indexed after trashed_at (Meta)
    # taken_at or else created_at, kept beside them like library_month: the library's order as a plain indexed
    # column, since MariaDB has no index on an expression (it sorted 100,000 rows for every page).
    library_at = models.DateTimeField(null=True, blank=True, editable=False)
    camera_make = models.CharField(max_length=100, blank=True)
    camera_model = models.CharField(max_length=100, blank=True)
    lens = models.CharField(max_length=150, blank=True)
    focal_length = models.FloatField(null=True, blank=True)
    aperture = models.FloatField(null=True, blank=True)
    exposure_time = models.CharField(max_length=20, blank=True)
    iso = models.PositiveIntegerField(null=True, blank=True)
    gps_latitude = models.FloatField(null=True, blank=True)
    gps_longitude = models.FloatField(null=True, blank=True)
    placeholder = models.TextField(blank=True, help_text="Tiny blurred data: URI shown before the thumbnail")
    phash = models.CharField(max_length=16, blank=True, db_index=True)
    # How much detail the hash rests on (processing.imaging.difference_hash); below the threshold in
    # gallery/duplicates.py a photo has no fingerprint. None: not measured yet (`reprocess --missing`).
    phash_detail = models.FloatField(null=True, blank=True, editable=False)
    rotation = models.PositiveSmallIntegerField(
        default=0, help_text="Extra clockwise rotation in degrees (0, 90, 180, 270), applied after EXIF orientation"
    )

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # In the trash since then (gallery/trash.py); purged GLOWWORM_TRASH_DAYS later. Files stay until the purge.
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = LibraryManager()
    all_objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # trashed_at first: the library is "trashed_at IS NULL", and SQLite without statistics otherwise walks
            # the trashed_at index and sorts 100,000 rows; MariaDB reads this one in order as well.
            models.Index(fields=["trashed_at", "-library_at", "-id"], name="photo_library_in_order"),
            # The date scrubber's GROUP BY library_month over the library (trashed_at IS NULL) read from the index
            # alone: 100,000 photos counted without touching a row.
            models.Index(fields=["trashed_at", "library_month"], name="photo_month_in_library"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(rotation__in=(0, 90, 180, 270)), name="photo_rotation_quarter")
        ]

    def __str__(self):
        return self.original_name or f"Photo {self.pk}"

    def save(self, *args, **kwargs):
        self.library_at = self.taken_at or self.created_at
        self.library_month = month_of(self.library_at)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"taken_at", "created_at"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "library_month", "library_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return cheap_url("photo", self.pk)

    @property
    def camera(self) -> str:
        make, model = self.camera_make.strip(), self.camera_model.strip()
        if make and model.lower().startswith(make.lower()):
            return model
        return " ".join(part for part in (make, model) if part)

    @cached_property
    def variants_by_name(self) -> dict:
        """Variants by spec name, using prefetched rows when present."""
        return {variant.name: variant for variant in self.variants.all()}


class Variant(models.Model):
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=40, help_text="Spec name from processing.specs")
    # Indexed: /media/<file> finds the row, and so the location, of the file it is asked for.
    file = models.CharField(max_length=255, db_index=True, help_text="Name under MEDIA_ROOT or in the bucket")
    location = models.CharField(max_length=8, choices=Location.choices, default=Location.LOCAL)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["photo", "name"], name="unique_variant_per_spec")]
        ordering = ["photo", "width"]

    def __str__(self):
        return f"{self.photo_id}/{self.name} {self.width}x{self.height}"

    @property
    def url(self) -> str:
        return cheap_url("media", self.file)

    @property
    def basename(self) -> str:
        """The file's own name, which changes with every render (the frames' and share links' URLs carry it)."""
        return self.file.rsplit("/", 1)[-1]


def album_name_key(name: str) -> str:
    """What makes two album names the same: case and surrounding space do not count."""
    return name.strip().casefold()


class Album(models.Model):
    name = models.CharField(max_length=200)
    # album_name_key(name), unique: "Iceland" and "iceland" are one album name. A stored column rather than a
    # functional index, which SQLite and MariaDB spell differently.
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    photos = models.ManyToManyField(Photo, through="AlbumPhoto", related_name="albums", blank=True)
    # Chosen cover; without one the newest photo added is the cover. SET_NULL: deleting a photo never deletes an album.
    cover = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who may rename, fill and delete it besides staff (gallery/permissions.py).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="albums"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = album_name_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("album", args=[self.pk])


class AlbumPhotoQuerySet(models.QuerySet):
    def in_library(self):
        """Memberships of photos not in the trash (trashed photos keep theirs, for a restore)."""
        return self.filter(photo__trashed_at__isnull=True)

    def count_in_library(self) -> int:
        """in_library().count(), as all memberships less those of trashed photos: the database then counts an
        album's memberships from their index and the trash from its own, instead of joining each of an album's
        10,000 memberships to its photo row to read trashed_at (17 ms against 1 on MariaDB)."""
        return self.count() - self.filter(photo__trashed_at__isnull=False).count()


# For annotations that count an album's photos: those in the trash do not count.
IN_LIBRARY_MEMBERSHIPS = models.Q(memberships__photo__trashed_at__isnull=True)


class AlbumPhoto(models.Model):
    """Membership of a photo in an album. Deleting an album deletes these rows, never the photos."""

    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="memberships")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="album_memberships")
    added_at = models.DateTimeField(default=timezone.now)

    objects = AlbumPhotoQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["album", "photo"], name="unique_photo_per_album")]
        indexes = [models.Index(fields=["album", "-added_at"], name="album_photo_recent")]
        ordering = ["-added_at", "-id"]

    def __str__(self):
        return f"{self.album_id}/{self.photo_id}"


class Favorite(models.Model):
    """A photo someone starred; each account has its own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "photo"], name="unique_favorite")]

    def __str__(self):
        return f"{self.user_id} likes {self.photo_id}"


class DuplicateDismissal(models.Model):
    """Two photos someone marked "not duplicates": they never share a group again (gallery/duplicates.py)."""

    first = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="unique_dismissed_pair"),
            models.CheckConstraint(condition=models.Q(first__lt=models.F("second")), name="dismissed_pair_ordered"),
        ]

    def __str__(self):
        return f"{self.first_id} and {self.second_id} are not duplicates"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to tell tokens apart")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user} {self.prefix}…"

    @classmethod
    def issue(cls, user) -> tuple["ApiToken", str]:
        """Create a token for user; the plain token is returned once and never stored."""
        plain = "gw_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, digest=hash_token(plain), prefix=plain[:8])
        return token, plain

    @staticmethod
    def bearer(header: str | None) -> str | None:
        """The token of an `Authorization: Bearer <token>` header; None for any other header (HTTP Basic from a
        proxy in front, say), which the app leaves alone."""
        scheme, _, token = (header or "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    @classmethod
    def from_authorization(cls, header: str | None):
        """The active user an `Authorization: Bearer <token>` header names, or None."""
        token = cls.bearer(header)
        return cls.authenticate(token) if token else None

    @classmethod
    def authenticate(cls, plain: str):
        token = cls.objects.select_related("user").filter(digest=hash_token(plain)).first()
        if token is None or not token.user.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user


class DisplaySizeQuerySet(models.QuerySet):
    def sizes(self) -> list[tuple[int, int]]:
        """Every display size the renderer makes: the configured ones, then those frames added."""
        return [*settings.GLOWWORM_DISPLAY_SIZES, *self.values_list("width", "height")]


class DisplaySize(models.Model):
    """A display size the renderer makes besides GLOWWORM_DISPLAY_SIZES: the screen buckets frames use.

    The rendering side owns this table (processing.jobs reads it into the spec table); frames ask for a size
    through ensure() and drop the ones no frame uses any more.
    """

    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = DisplaySizeQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["width", "height"], name="unique_display_size")]
        ordering = ["width", "height"]

    def __str__(self):
        return f"{self.width}x{self.height}"

    @classmethod
    def ensure(cls, width: int, height: int) -> "DisplaySize":
        """The row of this size, made if there is none yet."""
        try:
            with transaction.atomic():
                return cls.objects.get_or_create(width=width, height=height)[0]
        except IntegrityError:  # another process made it meanwhile
            return cls.objects.get(width=width, height=height)


class SetupToken(models.Model):
    """The one-time token that lets a person create the first account (gallery/first_account.py).

    The plain token is derived from SECRET_KEY and the nonce, so every web process and host that shares the key
    can print the same setup URL; only its digest is stored. The row is deleted when the first account exists.
    """

    nonce = models.CharField(max_length=64, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"setup token of {self.created_at:%Y-%m-%d %H:%M}"
