"""rq cron configuration, loaded by `manage.py rqcron processing.cron` (started by `manage.py serve`)."""

from django.conf import settings
from rq import cron

from gallery.frame_services import apply_schedules
from processing.sweeper import sweep

cron.register(
    sweep,
    "default",
    interval=settings.GLOWWORM_SWEEP_INTERVAL,
    job_timeout=300,
    # A sweep that waits behind a long queue of renders is dropped rather than piling up: the next one comes soon.
    ttl=max(3 * settings.GLOWWORM_SWEEP_INTERVAL, 30),
    result_ttl=600,
    name="glowworm-sweeper",
)

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
