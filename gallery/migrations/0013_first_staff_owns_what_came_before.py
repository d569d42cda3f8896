# Photos and albums from before accounts had roles belong to the first staff account.

from django.conf import settings
from django.db import migrations


def assign(apps, schema_editor):
    app_label, model_name = settings.AUTH_USER_MODEL.split(".")
    User = apps.get_model(app_label, model_name)
    first_staff = User.objects.filter(is_staff=True).order_by("date_joined", "pk").first()
    if first_staff is None:
        return
    apps.get_model("gallery", "Photo").objects.filter(uploaded_by__isnull=True).update(uploaded_by=first_staff)
    apps.get_model("gallery", "Album").objects.filter(owner__isnull=True).update(owner=first_staff)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0012_album_owner"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(assign, migrations.RunPython.noop)]
