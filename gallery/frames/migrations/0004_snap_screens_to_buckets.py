# Existing frames' screens snap to the display size buckets (gallery/frames/screens.py), and display sizes no frame
# uses are dropped: a frame could add any size before. The bucket list is copied here, as migrations must not
# follow later changes to app code.

from django.db import migrations

LANDSCAPE_BUCKETS = [(1024, 768), (1280, 720), (1920, 1080), (2560, 1440), (3840, 2160)]
BUCKETS = LANDSCAPE_BUCKETS + [(height, width) for width, height in LANDSCAPE_BUCKETS]


def bucket_for(width, height):
    holding = [(w, h) for w, h in BUCKETS if w >= width and h >= height]
    if holding:
        return min(holding, key=lambda size: (size[0] * size[1], BUCKETS.index(size)))
    same_orientation = [(w, h) for w, h in BUCKETS if (w >= h) == (width >= height)]
    return max(same_orientation, key=lambda size: size[0] * size[1])


def snap(apps, schema_editor):
    Frame = apps.get_model("frames", "Frame")
    DisplaySize = apps.get_model("gallery", "DisplaySize")
    for frame in Frame.objects.filter(screen_width__isnull=False, screen_height__isnull=False):
        width, height = bucket_for(frame.screen_width, frame.screen_height)
        frame.display_size, _ = DisplaySize.objects.get_or_create(width=width, height=height)
        frame.save(update_fields=["display_size"])
    DisplaySize.objects.filter(frames__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("frames", "0003_frame_display_size"),
    ]

    operations = [migrations.RunPython(snap, migrations.RunPython.noop)]
