"""`make run`'s supervisor: private Redis, Daphne and workers come up together and go down together."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.live


def processes_with_env(key: str, value: str) -> list[int]:
    found = []
    needle = f"{key}={value}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def command_line(pid: int) -> list[str]:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def niceness(pid: int) -> int:
    """Field 19 of /proc/<pid>/stat (after the command name in parentheses)."""
    stat = (Path("/proc") / str(pid) / "stat").read_text()
    return int(stat.rpartition(")")[2].split()[16])


def wait_for_health(url: str, server: subprocess.Popen, workers: int, timeout: float = 60) -> dict:
    """/healthz once it counts `workers` workers (it answers 200 from the first one on)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        assert server.poll() is None, f"serve exited early: {server.stdout.read()}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                last = json.load(response)
            if last["workers"] >= workers:
                return last
        except urllib.error.HTTPError as error:
            last = error.read()
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise AssertionError(f"not healthy in time: {last!r}")


def test_serve_starts_everything_and_sigterm_stops_every_child(tmp_path):
    var_dir = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        GLOWWORM_VAR_DIR=str(var_dir),
        SECRET_KEY="serve-test",
        PORT=str(port),
        GLOWWORM_WORKERS="2",
        DJANGO_SUPERUSER_USERNAME="owner",
        DJANGO_SUPERUSER_PASSWORD="owner-password-1",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", server, workers=2)
        assert health == {"database": "ok", "redis": "ok", "workers": 2}
        assert list((var_dir / "redis").rglob("appendonly*"))  # the private Redis keeps its data under var/
        assert var_dir.stat().st_mode & 0o777 == 0o700  # the database, the key and Redis: only for this user
        assert (var_dir / "glowworm.sqlite3").exists()
        children = processes_with_env("GLOWWORM_VAR_DIR", str(var_dir))
        assert len(children) >= 5  # redis, two web processes, two workers (and their helpers)
        commands = {pid: command_line(pid) for pid in children}
        web = [pid for pid, argv in commands.items() if "daphne" in " ".join(argv)]
        assert len(web) == 2 and all("--fd" in commands[pid] for pid in web)  # one shared listening socket
        workers = [pid for pid, argv in commands.items() if "worker" in argv]
        assert workers and all(niceness(pid) == 10 for pid in workers)  # renders never starve the web
        assert all(niceness(pid) == 0 for pid in web)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    for prefix in ("redis ", "web.1 ", "web.2 ", "worker.1 |", "worker.2 |"):
        assert any(line.startswith(prefix) for line in output.splitlines()), prefix
    assert "Stopped." in output
    assert processes_with_env("GLOWWORM_VAR_DIR", str(var_dir)) == []
