"""Signals other features listen to, so that the gallery and the renderer never call them by name."""

from django.dispatch import Signal

# A photo's row changed in a way others may show: rendered, re-rendered, rotated, failed. Argument: photo_id.
photo_changed = Signal()
