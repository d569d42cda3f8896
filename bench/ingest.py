"""A drop of N 12 MP JPEGs through the real stack, as the gallery page sends them (issue 13).

Starts `manage.py serve` like `make run` (private valkey, Daphne processes, niced RQ workers, cron) in a temporary
directory, opens a logged-in gallery websocket, times the naive Pillow legacy set for one such photo in this
process (the yardstick), then uploads N distinct copies through POST /api/images/ with an API token, 3 in flight.
Reports, from the first upload's start: the last upload answered, every thumbnail present (the first pushed tile
with its thumbnail, per photo), all ready, and the answer times.

Targets: every thumbnail <= 1.3x the last answer; all ready <= 0.35x the naive Pillow set per photo; answer p95
<= 1 s.

Usage: python -m bench.ingest [--photos N] [--in-flight N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench import inputs
from bench.legacy import LEGACY, naive_pillow
from bench.stack import Stack, drop, percentile, wait_ready


def naive_ms(path, rounds: int = 3) -> float:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in naive_pillow(path, LEGACY):
            pass
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def verdict(value: float, target: float) -> str:
    return "pass" if value <= target else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=3)
    args = parser.parse_args()

    path = inputs.jpeg_12mp()
    jpeg = path.read_bytes()
    stack = Stack()
    try:
        sock = stack.socket()
        naive = naive_ms(path)
        print(f"input: 4000x3000 JPEG, {len(jpeg) / 1e6:.1f} MB; naive Pillow legacy set for one: {naive:.0f} ms")
        result = drop(stack, jpeg, args.photos, args.in_flight)
        wait_ready(stack, sock, result.ids, seconds=30 + args.photos * 10)
        sock.stop()
    finally:
        stack.stop()

    start, last_answer = result.started, result.last_answer - result.started
    seen = [sock.photos.get(pk) for pk in result.ids]
    thumbs = [s.thumbnail for s in seen if s and s.thumbnail]
    ready = [s.ready for s in seen if s and s.ready]
    answers = [t * 1000 for t in result.answer_times]
    print(
        f"{len(result.uploads)} uploads, {args.in_flight} in flight, {len(result.errors)} refused {result.errors[:3]}"
    )
    print(f"pushes received per photo: {statistics.mean(s.pushes if s else 0 for s in seen):.1f}")
    print()
    print("| measured | value | target | |")
    print("|---|---|---|---|")
    print(f"| last upload answered | {last_answer:.1f} s | | |")
    if len(thumbs) == len(result.ids):
        every_thumb = max(thumbs) - start
        ratio = every_thumb / last_answer
        print(f"| every thumbnail present | {every_thumb:.1f} s = {ratio:.2f}x the last answer | <= 1.3x | "
              f"{verdict(ratio, 1.3)} |")  # fmt: skip
    else:
        print(f"| every thumbnail present | only {len(thumbs)} of {len(result.ids)} seen | <= 1.3x | FAIL |")
    if len(ready) == len(result.ids):
        all_ready = max(ready) - start
        per_photo = all_ready * 1000 / len(result.ids)
        print(f"| all ready | {all_ready:.1f} s = {per_photo:.0f} ms/photo = {per_photo / naive:.2f}x naive Pillow "
              f"({naive:.0f} ms) | <= 0.35x | {verdict(per_photo / naive, 0.35)} |")  # fmt: skip
    else:
        print(f"| all ready | only {len(ready)} of {len(result.ids)} seen ready | <= 0.35x | FAIL |")
    p50, p95 = statistics.median(answers), percentile(answers, 0.95)
    print(f"| upload answer p50 / p95 | {p50:.0f} / {p95:.0f} ms | p95 <= 1000 ms | {verdict(p95, 1000)} |")


if __name__ == "__main__":
    main()
