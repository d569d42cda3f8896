from django.apps import AppConfig


class FramesConfig(AppConfig):
    name = "gallery.frames"
    label = "frames"
    verbose_name = "Frames"

    def ready(self):
        from gallery.frames import receivers

        receivers.connect()
