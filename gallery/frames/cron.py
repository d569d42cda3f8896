"""The frames' entry in the rq cron configuration (glowworm/cron.py loads it)."""

from rq import cron

from gallery.frames.scheduling import apply_schedules

# Frame schedules: each frame's window decides what it shows; a change is pushed to the frame at once.
cron.register(
    apply_schedules,
    "default",
    interval=60,
    job_timeout=60,
    ttl=120,
    result_ttl=600,
    name="glowworm-frame-schedules",
)
