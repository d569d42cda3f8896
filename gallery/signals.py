"""Signals other features listen to, so that the gallery and the renderer never call them by name."""

from django.dispatch import Signal

# Photos changed in a way others may show: rendered, re-rendered, rotated, failed, trashed, restored.
# Argument: photo_ids, a list.
photos_changed = Signal()
