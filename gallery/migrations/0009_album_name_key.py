# Album names are unique ignoring case. Existing clashes are renamed ("Iceland", "iceland" -> "Iceland",
# "iceland (2)"), oldest first, then the key column becomes unique.

from django.db import migrations, models


def key(name):
    return name.strip().casefold()


def fill_keys(apps, schema_editor):
    Album = apps.get_model("gallery", "Album")
    taken = set()
    for album in Album.objects.order_by("created_at", "id"):
        name = album.name.strip() or "Album"
        candidate, number = name, 2
        while key(candidate) in taken:
            suffix = f" ({number})"
            candidate = name[: 200 - len(suffix)] + suffix
            number += 1
        taken.add(key(candidate))
        album.name, album.name_key = candidate, key(candidate)
        album.save(update_fields=["name", "name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0008_measure_hash_detail"),
    ]

    operations = [
        migrations.AddField(
            model_name="album",
            name="name_key",
            field=models.CharField(editable=False, max_length=200, null=True),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="album",
            name="name_key",
            field=models.CharField(editable=False, max_length=200, unique=True),
        ),
    ]
