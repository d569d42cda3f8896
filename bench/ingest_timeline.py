"""Where a drop's time goes, per photo (issue 13): the upload answer, each stage's RQ job (enqueued, started,
ended), the thumbnail push and the ready push seen on the websocket, and the CPU the web and worker processes
spent (work horses included, through the workers' child times).

Usage: python -m bench.ingest_timeline [--photos N] [--in-flight N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from datetime import UTC

import redis
from rq.job import Job

from bench import inputs
from bench.stack import Stack, drop, wait_ready


def cpu_seconds(stack: Stack) -> Counter:
    """CPU seconds (own and reaped children's) of the stack's processes, by kind: web, worker, other."""
    used: Counter = Counter()
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if str(stack.workdir).encode() not in open(f"/proc/{entry}/environ", "rb").read():
                continue
            arguments = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "worker" if b"worker" in arguments else "web" if b"daphne" in b" ".join(arguments) else "other"
        used[kind] += sum(int(value) for value in fields[11:15]) / tick
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--in-flight", type=int, default=3)
    args = parser.parse_args()

    jpeg = inputs.jpeg_12mp().read_bytes()
    stack = Stack()
    wall_minus_perf = time.time() - time.perf_counter()
    try:
        sock = stack.socket()
        before = cpu_seconds(stack)
        result = drop(stack, jpeg, args.photos, args.in_flight)
        wait_ready(stack, sock, result.ids, seconds=30 + args.photos * 10)
        used = cpu_seconds(stack)
        used.subtract(before)
        connection = redis.Redis(unix_socket_path=str(stack.workdir / "redis" / "valkey.sock"))
        start = result.started

        def since_start(stamp) -> float:
            return stamp.replace(tzinfo=UTC).timestamp() - wall_minus_perf - start if stamp else float("nan")

        rows = []
        for photo_id, _, answered in sorted(result.uploads, key=lambda upload: upload[1]):
            jobs = {stage: Job.fetch(f"render-{photo_id}-{stage}", connection=connection) for stage in STAGE_NAMES}
            times = {stage: [since_start(getattr(job, name)) for name in STAMPS] for stage, job in jobs.items()}
            seen = sock.photos.get(photo_id)
            rows.append((photo_id, answered - start, times, seen.thumbnail - start, seen.ready - start))
        sock.stop()
    finally:
        stack.stop()

    per_photo = ", ".join(f"{kind} {seconds * 1000 / args.photos:.0f} ms" for kind, seconds in used.items())
    print(f"CPU per photo: {per_photo}")
    print("photo answered | thumbs enqueued started ended pushed | variants enqueued started ended ready")
    for photo_id, answered, times, pushed, ready in rows:
        thumbs = " ".join(f"{t:6.1f}" for t in times["thumbnail"])
        variants = " ".join(f"{t:6.1f}" for t in times["variant"])
        print(f"{photo_id:5d} {answered:6.1f} | {thumbs} {pushed:6.1f} | {variants} {ready:6.1f}")
    thumbs = [row[2]["thumbnail"] for row in rows]
    variants = [row[2]["variant"] for row in rows]
    waits = [started - enqueued for enqueued, started, _ in thumbs]
    last_thumbnail = max(ended for _, _, ended in thumbs)
    last_answer, last_push = max(row[1] for row in rows), max(row[3] for row in rows)
    print(f"last answer {last_answer:.1f} s; every thumbnail pushed {last_push:.1f} s = {last_push / last_answer:.2f}x")
    print(f"thumbs wait in queue, median / max: {statistics.median(waits):.2f} / {max(waits):.2f} s")
    thumb_run = statistics.median(ended - started for _, started, ended in thumbs)
    variant_run = statistics.median(ended - started for _, started, ended in variants)
    print(f"job run, median: thumbs {thumb_run:.2f} s, variants {variant_run:.2f} s")
    early = sum(started < last_thumbnail for _, started, _ in variants)
    print(f"variants jobs started before the last thumbnail was done: {early}")
    enqueued_after_answer = statistics.median(t[0] - row[1] for t, row in zip(thumbs, rows, strict=True))
    print(f"thumbs job enqueued minus upload answered, median: {enqueued_after_answer * 1000:.0f} ms")


STAGE_NAMES = ("thumbnail", "variant")
STAMPS = ("enqueued_at", "started_at", "ended_at")

if __name__ == "__main__":
    main()
