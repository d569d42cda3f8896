"""A real S3 API over HTTP for the tests: `moto_server` (moto[server], dev-only) on a free port for the session,
and a fresh bucket per test with the AWS_* settings pointing at it.

    from tests import private_s3

    moto_url = private_s3.moto_url
    bucket = private_s3.bucket

`bucket` is a Bucket: its name, a boto3 client, the keys it holds, and the environment a process started by the
test needs to use it (process_env(..., **bucket.env)).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.conftest import free_port

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
ACCESS_KEY, SECRET_KEY, REGION = "testing-key", "testing-secret", "us-east-1"
_numbers = itertools.count(1)


def start_moto(port: int, **env: str) -> subprocess.Popen:
    """moto_server on 127.0.0.1:port, once it listens (a TCP connect: no request, which a server that counts its
    unauthenticated requests would count)."""
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto_server did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def s3_client(endpoint: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def moto_url():
    port = free_port()
    process = start_moto(port)
    yield f"http://127.0.0.1:{port}"
    stop(process)


@dataclass
class Bucket:
    name: str
    endpoint: str
    client: object

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    @property
    def env(self) -> dict:
        """AWS_* for a process started by the test."""
        return {
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
        }


@pytest.fixture
def bucket(moto_url, settings) -> Bucket:
    """An empty bucket of this test's own, and the settings pointing at it (so media go there)."""
    name = f"glowworm-{os.getpid()}-{next(_numbers)}"
    client = s3_client(moto_url)
    client.create_bucket(Bucket=name)
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = moto_url
    settings.AWS_ACCESS_KEY_ID = ACCESS_KEY
    settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
    settings.AWS_S3_REGION_NAME = REGION
    return Bucket(name, moto_url, client)
