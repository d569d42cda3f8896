# Every photo's library_month, as Photo.save() and the renderer keep it from now on: the month of its date taken, or
# else of its upload, in the server's time zone. One UPDATE per month and batch, not per photo.

from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

BATCH = 1000


def fill(apps, schema_editor):
    Photo = apps.get_model("gallery", "Photo")
    zone = ZoneInfo(settings.TIME_ZONE)
    by_month = defaultdict(list)
    for pk, taken_at, created_at in Photo.objects.values_list("pk", "taken_at", "created_at").iterator():
        by_month[(taken_at or created_at).astimezone(zone).date().replace(day=1)].append(pk)
    for month, pks in by_month.items():
        for start in range(0, len(pks), BATCH):
            Photo.objects.filter(pk__in=pks[start : start + BATCH]).update(library_month=month)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0014_photo_library_month"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
