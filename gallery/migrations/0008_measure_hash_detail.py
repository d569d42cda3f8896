# Existing photos get their hash's detail measure (processing.imaging.difference_hash) from their thumbnail, the
# image the renderer hashed; photos whose thumbnail cannot be read keep None and are left out of duplicate groups
# until `manage.py reprocess --missing` renders them again. The measure is copied here, as migrations must not
# follow later changes to app code.

import os

from django.conf import settings
from django.db import migrations


def detail_of(path):
    from PIL import Image

    with Image.open(path) as image:
        pixels = image.convert("L").resize((9, 8), Image.Resampling.BOX).tobytes()
    return sum(abs(pixels[row * 9 + col] - pixels[row * 9 + col + 1]) for row in range(8) for col in range(8)) / 64


def measure(apps, schema_editor):
    Photo = apps.get_model("gallery", "Photo")
    Variant = apps.get_model("gallery", "Variant")
    thumbs = dict(Variant.objects.filter(name="thumb").values_list("photo_id", "file"))
    for photo in Photo.objects.exclude(phash="").filter(phash_detail__isnull=True).only("pk").iterator():
        relative = thumbs.get(photo.pk)
        if not relative:
            continue
        try:
            detail = detail_of(os.path.join(settings.MEDIA_ROOT, relative))
        except Exception:  # a missing or unreadable file: leave it for reprocess
            continue
        Photo.objects.filter(pk=photo.pk).update(phash_detail=detail)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0007_duplicate_detail"),
    ]

    operations = [migrations.RunPython(measure, migrations.RunPython.noop)]
