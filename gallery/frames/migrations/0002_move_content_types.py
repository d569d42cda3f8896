# The frame models' content types move from the gallery label to frames, so their admin permissions (and the
# groups and users holding them) and admin log entries follow the models.

from django.db import migrations

MODELS = ("playlist", "playlistitem", "playlistalbum", "frame", "frameschedule", "pairingcode")


def move(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue
        # A content type created meanwhile for the new label (none is, normally) would block the rename.
        ContentType.objects.using(db).filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    move(apps, schema_editor, "gallery", "frames")


def backwards(apps, schema_editor):
    move(apps, schema_editor, "frames", "gallery")


class Migration(migrations.Migration):
    dependencies = [
        ("frames", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
