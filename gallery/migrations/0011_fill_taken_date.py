# Photos rendered before taken_date existed get it from taken_at: the camera's own offset when it recorded one,
# else the server's time zone (as the renderer read the camera's clock then).

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations


def fill(apps, schema_editor):
    Photo = apps.get_model("gallery", "Photo")
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = Photo.objects.filter(taken_at__isnull=False, taken_date__isnull=True).values_list(
        "pk", "taken_at", "taken_at_offset"
    )
    for pk, taken_at, offset in rows.iterator():
        if len(offset) == 6 and offset[0] in "+-":
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            local = taken_at + (delta if offset[0] == "+" else -delta)
            day = local.replace(tzinfo=None).date()
        else:
            day = taken_at.astimezone(zone).date()
        Photo.objects.filter(pk=pk).update(taken_date=day)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0010_taken_date_and_favorites"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
