"""The sweeper's entry in the rq cron configuration (glowworm/cron.py loads it)."""

from django.conf import settings
from rq import cron

from processing.sweeper import sweep_job

cron.register(
    sweep_job,
    "default",
    interval=settings.GLOWWORM_SWEEP_INTERVAL,
    job_timeout=300,
    # A sweep that waits behind a long queue of renders is dropped rather than piling up: the next one comes soon.
    ttl=max(3 * settings.GLOWWORM_SWEEP_INTERVAL, 30),
    result_ttl=600,
    name="glowworm-sweeper",
)
