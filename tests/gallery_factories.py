"""Photo rows without files, for page, query-count and service tests (rendering is tested elsewhere)."""

import hashlib
import itertools
from datetime import datetime

from django.utils import timezone

from gallery.models import Photo, Variant

_counter = itertools.count(1)


def make_photo_row(*, taken_at: datetime | None = None, status=Photo.Status.READY, phash="", **fields) -> Photo:
    number = next(_counter)
    photo = Photo.objects.create(
        sha256=hashlib.sha256(f"photo-{number}".encode()).hexdigest(),
        original=f"originals/{number:04d}.jpg",
        original_name=fields.pop("original_name", f"IMG_{number:04d}.jpg"),
        format=fields.pop("format", "JPEG"),
        file_size=fields.pop("file_size", 123_456),
        width=fields.pop("width", 1200),
        height=fields.pop("height", 800),
        status=status,
        taken_at=taken_at,
        taken_date=fields.pop("taken_date", timezone.localtime(taken_at).date() if taken_at else None),
        phash=phash,
        phash_detail=fields.pop("phash_detail", 20.0 if phash else None),
        placeholder="data:image/webp;base64,UklGRg==",
        **fields,
    )
    if status == Photo.Status.READY:
        Variant.objects.bulk_create(
            [
                Variant(
                    photo=photo,
                    name=name,
                    file=f"variants/{number}-{name}.webp",
                    width=w,
                    height=h,
                    format="WEBP",
                    bytes=1000,
                )
                for name, w, h in (("thumb", 400, 267), ("thumb2x", 800, 533), ("preview", 2048, 1365))
            ]
        )
    return photo


def aware(*args) -> datetime:
    return timezone.make_aware(datetime(*args))
