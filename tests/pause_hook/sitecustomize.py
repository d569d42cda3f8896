"""Loaded at start-up by the worker processes some tests start (PYTHONPATH=tests/pause_hook): while the file named
by GLOWWORM_TEST_PAUSE_RENDER_FILE exists, every render waits before it decodes, so a test can kill the worker
mid-render. Production code has no such hook; see tests/conftest.py paused_render_env()."""

import os
import time

PAUSE_FILE = os.environ.get("GLOWWORM_TEST_PAUSE_RENDER_FILE")

if PAUSE_FILE:
    from processing import imaging

    original_render = imaging.Source.render

    def render(self, *args, **kwargs):
        deadline = time.monotonic() + 120
        while os.path.exists(PAUSE_FILE) and time.monotonic() < deadline:
            time.sleep(0.1)
        return original_render(self, *args, **kwargs)

    imaging.Source.render = render
