from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "gallery.sharing"
    label = "sharing"
    verbose_name = "Share links"
