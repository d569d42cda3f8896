"""rq cron configuration, loaded by `manage.py rqcron glowworm.cron` (started by `manage.py serve`): each app
registers its own periodic jobs, and this project module gathers them."""

import gallery.frames.cron  # noqa: F401  (the frame schedules, every minute)
import processing.cron  # noqa: F401  (the sweeper)
