"""The gallery's entries in the rq cron configuration (glowworm/cron.py loads it)."""

from rq import cron

from gallery.trash import purge_expired

# The trash empties itself: photos trashed more than GLOWWORM_TRASH_DAYS ago are purged, files and all.
cron.register(
    purge_expired, "default", interval=3600, job_timeout=1800, ttl=3600, result_ttl=600, name="glowworm-trash"
)
