"""200 uploads, 50 in flight, with a gallery websocket open: once with the workers stopped, once with them busy,
in the same run against the same server (issue 13).

Starts `manage.py serve` like `make run`, opens a logged-in gallery websocket, stops the RQ workers (SIGSTOP) and
sends the first 200 12 MP JPEGs through POST /api/images/, 50 at a time; then lets the workers go on (SIGCONT):
they are busy with those 200 renders while the second 200 arrive the same way. Reports per phase: throughput
(uploads answered per second), answer p50/p95; then, once every photo is ready: pushes received per photo and
lost photos (answered, but never ready in the library or never told to the websocket; must be 0), and the ratio
of the busy throughput to the stopped one (target >= 0.8).

Usage: python -m bench.load [--photos N] [--in-flight N]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import time
import urllib.error

from bench import inputs
from bench.stack import Stack, drop, percentile, wait_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()

    jpeg = inputs.jpeg_12mp().read_bytes()
    stack = Stack()
    phases = {}
    try:
        sock = stack.socket()
        print(f"input: 4000x3000 JPEG, {len(jpeg) / 1e6:.1f} MB; {args.photos} uploads per phase, "
              f"{args.in_flight} in flight")  # fmt: skip
        stack.signal_workers(signal.SIGSTOP)
        phases["workers stopped"] = drop(stack, jpeg, args.photos, args.in_flight)
        stack.signal_workers(signal.SIGCONT)
        time.sleep(2)  # the workers take up the 200 renders waiting for them
        phases["workers busy"] = drop(stack, jpeg, args.photos, args.in_flight, first_index=args.photos)
        ids = [pk for result in phases.values() for pk in result.ids]
        wait_ready(stack, sock, ids, seconds=60 + len(ids) * 5)
        statuses = {}
        for pk in ids:
            try:
                statuses[pk] = stack.api(f"/api/images/{pk}/")["status"]
            except urllib.error.HTTPError as error:
                statuses[pk] = f"HTTP {error.code}"
        sock.stop()
    finally:
        stack.stop()

    print()
    print("| phase | throughput | answer p50 / p95 | refused | pushes per photo | lost |")
    print("|---|---|---|---|---|---|")
    throughput = {}
    for name, result in phases.items():
        answers = [t * 1000 for t in result.answer_times]
        throughput[name] = len(result.uploads) / (result.last_answer - result.started)
        seen = [sock.photos.get(pk) for pk in result.ids]
        pushes = statistics.mean(s.pushes if s else 0 for s in seen)
        lost = [pk for pk, s in zip(result.ids, seen, strict=True) if statuses[pk] != "ready" or not (s and s.ready)]
        print(
            f"| {name} | {throughput[name]:.2f} uploads/s | {statistics.median(answers):,.0f} / "
            f"{percentile(answers, 0.95):,.0f} ms | {len(result.errors)} | {pushes:.1f} | "
            f"{len(lost) + len(result.errors)}{' ' + str(lost[:10]) if lost else ''} |"
        )
    ratio = throughput["workers busy"] / throughput["workers stopped"]
    print(f"\nbusy / stopped throughput: {ratio:.2f} (target >= 0.8: {'pass' if ratio >= 0.8 else 'FAIL'})")
    if sock.closed:
        print(f"websocket closed by the server: {sock.closed}")


if __name__ == "__main__":
    main()
