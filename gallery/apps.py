import os

from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self):
        from gallery import security

        security.connect_receivers()
        # Files we write (media, the SQLite database, temporary uploads) are not readable by other users of the
        # machine: rw for us, r for our group, nothing for others.
        os.umask(0o027)
