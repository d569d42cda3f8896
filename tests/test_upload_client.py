"""bin/glowworm-upload: against the live stack (Daphne and a worker), and its retries against a server that fails
on purpose."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from gallery.models import ApiToken, Photo
from tests.conftest import DATA, ROOT

CLIENT = ROOT / "bin" / "glowworm-upload"


def load_client():
    loader = importlib.machinery.SourceFileLoader("glowworm_upload", str(CLIENT))
    spec = importlib.util.spec_from_loader("glowworm_upload", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["glowworm_upload"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


def photo_tree(root: Path) -> Path:
    (root / "trip" / "day 2").mkdir(parents=True)
    (root / "trip" / "hopper.jpg").write_bytes((DATA / "formats" / "hopper.jpg").read_bytes())
    (root / "trip" / "day 2" / "gray.jpg").write_bytes((DATA / "formats" / "hopper_gray.jpg").read_bytes())
    (root / "trip" / "day 2" / "copy.jpg").write_bytes((DATA / "formats" / "hopper_gray.jpg").read_bytes())
    (root / "icc.png").write_bytes((DATA / "formats" / "icc_profile.png").read_bytes())
    (root / "notes.txt").write_text("not a photo")
    (root / "fake.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)  # starts like a JPEG; the server refuses it
    (root / "trip" / "hopper.jpg.json").write_text("{}")
    (root / "loop").symlink_to(root)
    return root


@pytest.mark.live
def test_uploads_what_is_new_and_a_second_run_sends_nothing(live, user, tmp_path):
    _, token = ApiToken.issue(user)
    tree = photo_tree(tmp_path / "photos")
    with open(tree / "icc.png", "rb") as handle:  # already on the server
        answer = requests.post(
            live.url + "/api/images/", files={"file": handle}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 201, answer.text

    cache = tmp_path / "hashes.sqlite3"

    def upload(*args):
        return subprocess.run(
            [sys.executable, str(CLIENT), str(tree), "--url", live.url, "--token", token, "--cache", str(cache), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = upload()
    assert first.returncode == 0, first.stdout + first.stderr + live.output()
    lines = first.stdout.splitlines()
    assert lines[0] == "2 new, 2 already in the library, 3 skipped, 0 failed", first.stdout
    assert sorted(lines[1].removeprefix("  already: ").split(", ")) == [
        "1 in the library",
        "1 same as another file of this run",
    ]
    skipped = lines[2]
    assert "1 not an image" in skipped and "1 symlink loop" in skipped
    assert "1 The image is damaged" in skipped, skipped  # the server's reason
    assert Photo.objects.count() == 3
    assert set(Photo.objects.values_list("uploaded_by", flat=True)) == {user.pk}

    second = upload()
    assert second.returncode == 0
    assert second.stdout.splitlines()[0] == "0 new, 4 already in the library, 3 skipped, 0 failed"

    refused = subprocess.run(
        [sys.executable, str(CLIENT), str(tree), "--url", live.url, "--token", "gw_wrong", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "refused the token" in refused.stderr


class FlakyServer(BaseHTTPRequestHandler):
    """Holds nothing; answers each upload first with 503, then 429, then 201."""

    attempts: dict[str, int] = {}

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/api/images/check/":
            hashes = json.loads(body)["sha256"]
            return self.answer(200, {"existing": {}, "missing": hashes})
        name = body.split(b'filename="', 1)[1].split(b'"', 1)[0].decode()
        attempt = self.attempts[name] = self.attempts.get(name, 0) + 1
        if attempt == 1:
            return self.answer(503, {"error": "Restarting."})
        if attempt == 2:
            return self.answer(429, {"error": "Slow down."}, {"Retry-After": "0"})
        return self.answer(201, {"id": 1})

    def answer(self, status: int, body: dict, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_transient_failures_are_retried_and_used_up_retries_count_as_failed(tmp_path):
    client = load_client()
    tree = photo_tree(tmp_path / "photos")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        report = client.run([tree], client.Server(url, "gw_x", backoff=0), jobs=2, dry_run=True)
        assert report.summary() == "4 new, 1 already in the library, 2 skipped, 0 failed"
        assert FlakyServer.attempts == {}  # a dry run only checks

        report = client.run([tree], client.Server(url, "gw_x", backoff=0), jobs=2, dry_run=False)
        assert report.summary() == "4 new, 1 already in the library, 2 skipped, 0 failed"
        assert all(count == 3 for count in FlakyServer.attempts.values()), FlakyServer.attempts

        FlakyServer.attempts.clear()
        impatient = client.Server(url, "gw_x", retries=1, backoff=0)
        report = client.run([tree], impatient, jobs=2, dry_run=False)
        assert report.summary() == "0 new, 1 already in the library, 2 skipped, 4 failed"
        assert report.counts["failed"] == {"HTTP 429": 4}
    finally:
        server.shutdown()


def test_a_second_run_takes_its_hashes_from_the_cache(tmp_path, monkeypatch):
    client = load_client()
    tree = photo_tree(tmp_path / "photos")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    checker = client.Server(f"http://127.0.0.1:{server.server_port}", "gw_x", backoff=0)
    cache = tmp_path / "hashes.sqlite3"
    try:
        first = client.run([tree], checker, jobs=1, dry_run=True, cache=cache)
        hashed = []
        original = client.hash_file
        monkeypatch.setattr(client, "hash_file", lambda path: hashed.append(path.name) or original(path))
        second = client.run([tree], checker, jobs=1, dry_run=True, cache=cache)
        assert second.summary() == first.summary() == "4 new, 1 already in the library, 2 skipped, 0 failed"
        assert sorted(hashed) == ["notes.txt"]  # only what the cache does not hold: files that are no photos
        (tree / "icc.png").write_bytes((DATA / "formats" / "hopper.webp").read_bytes())  # changed: hashed again
        hashed.clear()
        client.run([tree], checker, jobs=1, dry_run=True, cache=cache)
        assert sorted(hashed) == ["icc.png", "notes.txt"]
    finally:
        server.shutdown()


def test_an_unreachable_server_is_a_clear_error(tmp_path, capsys):
    client = load_client()
    tree = photo_tree(tmp_path / "photos")
    status = client.main([str(tree), "--url", "http://127.0.0.1:9", "--token", "gw_x", "--retries", "1", "--no-cache"])
    assert status == 2
    assert "Could not reach http://127.0.0.1:9" in capsys.readouterr().err
