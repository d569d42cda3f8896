"""schemathesis against the live stack (Daphne and a worker): requests generated from /api/schema/ (valid ones and
broken ones) must never get a 5xx, and every answer must have a status code, content type and body the schema
documents. Bounded: a fixed seed and a fixed number of examples per operation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from gallery.models import ApiToken
from tests.conftest import DATA

pytestmark = pytest.mark.live

SCHEMATHESIS = Path(sys.executable).with_name("st")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = 40


def test_schemathesis_finds_nothing_wrong(live, user, tmp_path):
    _, token = ApiToken.issue(user)
    auth = {"Authorization": f"Bearer {token}"}
    # Something to find behind the ids: a photo in an album with a share link.
    with open(DATA / "formats" / "hopper.jpg", "rb") as handle:
        photo = requests.post(live.url + "/api/images/", files={"file": handle}, headers=auth).json()
    album = requests.post(live.url + "/api/albums/", json={"name": "Fuzzed"}, headers=auth).json()
    requests.post(f"{live.url}/api/albums/{album['id']}/photos/", json={"photos": [photo["id"]]}, headers=auth)
    result = subprocess.run(
        [
            str(SCHEMATHESIS), "run", f"{live.url}/api/schema/",
            "--header", f"Authorization: Bearer {token}",
            "--checks", CHECKS,
            "--max-examples", os.environ.get("GLOWWORM_FUZZ_EXAMPLES", str(MAX_EXAMPLES)),
            "--seed", os.environ.get("GLOWWORM_FUZZ_SEED", "16"),
            "--phases", os.environ.get("GLOWWORM_FUZZ_PHASES", "examples,coverage,fuzzing"),
            "--workers", "1",
            "--generation-database", "none",
            "--request-timeout", "30",
            "--no-color",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # schemathesis keeps a cache of crashes in .schemathesis/ where it runs
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-30000:] + result.stderr[-3000:] + live.output()
