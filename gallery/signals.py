"""Signals other features listen to, so that the gallery and the renderer never call them by name."""

from django.dispatch import Signal

# Photos changed in a way others may show: rendered, re-rendered, rotated, failed, trashed, restored.
# Argument: photo_ids, a list.
photos_changed = Signal()

# Which display sizes do these photos need beyond the ones every photo gets? Asked by the renderer (processing.jobs)
# and `reprocess --missing`. Argument: photo_ids. Receivers return {photo_id: [(width, height), ...]}.
display_sizes_wanted = Signal()

# Photos joined or left albums (the albums' photos changed, not the photos). Argument: album_ids.
albums_changed = Signal()
