"""`make dev` (`manage.py serve --reload`): a Python change restarts the web server and the workers."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port


def wait_for(log: Path, pattern: str, process: subprocess.Popen, timeout: float = 60, count: int = 1) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if len(re.findall(pattern, text, re.MULTILINE)) >= count:
            return text
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} x{count} not seen in the output:\n{log.read_text(errors='replace')[-6000:]}")


@pytest.mark.live
def test_python_change_restarts_web_and_workers_then_everything_stops():
    var_dir = Path(tempfile.mkdtemp(prefix="gw-dev-", dir="/tmp"))  # short: the Redis socket path lives here
    log = var_dir / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "MEDIA_ROOT", "SECRET_KEY")}
    env.update(DJANGO_SETTINGS_MODULE="glowworm.settings", GLOWWORM_VAR_DIR=str(var_dir), DEBUG="true")
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--reload", "--workers", "1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(log, r"^worker\.1 .*Listening on default", process)
        wait_for(log, r"^web .*Listening on TCP address", process)
        text = wait_for(log, r"^worker\.1 .*watchfiles", process)
        assert "filter=DefaultFilter" in text and str(ROOT / "processing") in text

        # Same content, new mtime: enough for both watchers. Django's reloader ignores a file until its first
        # scan has seen it (a second or so after start, later on a busy machine), so touch until it notices.
        web_reloaded = r"^web .*processing/__init__\.py changed, reloading"
        for _ in range(20):
            (ROOT / "processing" / "__init__.py").touch()
            try:
                wait_for(log, web_reloaded, process, timeout=3)
                break
            except AssertionError:
                continue
        text = wait_for(log, web_reloaded, process, timeout=1)
        text = wait_for(log, r"^worker\.1 .*change detected", process)
        text = wait_for(log, r"^worker\.1 .*Worker \w+: started with PID", process, count=2)
        text = wait_for(log, r"^web .*Listening on TCP address", process, count=2)
        started = re.findall(r"^worker\.1 .*Worker (\w+): started with PID", text, re.MULTILINE)
        assert len(set(started)) == len(started) >= 2  # new worker processes (RQ picks a fresh name each start)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert code == 0
    text = log.read_text()
    assert text.rstrip().endswith("glowworm | Stopped.")
    assert "did not stop in time" not in text
    shutil.rmtree(var_dir, ignore_errors=True)
