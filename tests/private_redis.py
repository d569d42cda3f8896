"""A Redis (valkey) server per test module, for tests that assert on queues and registries or run workers.

The session's server is shared with the live stack's RQ worker (browser and smoke tests), which takes any job
it sees. Tests that count jobs in the queue or run a worker of their own use this server instead: import the
fixtures into the test module, and `redis_conn` and `run_worker` there mean this server.

    from tests.private_redis import private_redis_url, redis_conn, run_worker  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import redis

from tests.conftest import _start_valkey, run_burst_worker


@pytest.fixture(scope="module")
def private_redis_url():
    directory = Path(tempfile.mkdtemp(prefix="gw-own-", dir="/tmp"))  # short: a Unix socket path has a limit
    process, socket_path = _start_valkey(directory)
    yield f"unix://{socket_path}"
    process.kill()
    process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def redis_conn(private_redis_url, settings):
    """This module's server, flushed, with RQ pointed at it for the test."""
    settings.RQ_QUEUES = {name: dict(config, URL=private_redis_url) for name, config in settings.RQ_QUEUES.items()}
    connection = redis.Redis.from_url(private_redis_url)
    connection.flushdb()
    return connection


@pytest.fixture
def run_worker(transactional_db, media_root, private_redis_url, redis_conn):
    """Run a real `manage.py rqworker --burst` process against the test database and this module's server."""
    return lambda timeout=120: run_burst_worker(media_root, private_redis_url, timeout)
