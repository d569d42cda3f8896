from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gallery.people"
    label = "people"
    verbose_name = "People"
