"""`python manage.py doctor`: what is wrong, in plain words, with a fix for each finding."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

from django.core.management.base import BaseCommand

from glowworm import doctor

LABELS = {
    doctor.OK: "ok",
    doctor.WARN: "WARN",
    doctor.ERROR: "FAIL",
    doctor.SKIP: "skip",
}
COLOURS = {doctor.OK: "\033[32m", doctor.WARN: "\033[33m", doctor.ERROR: "\033[31m"}
RESET = "\033[0m"


class Command(BaseCommand):
    help = "Check the database, Redis, queues, workers, channel layer, photos, disk, Pillow and settings."
    requires_system_checks = []  # doctor runs them itself and reports them as findings

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the findings as JSON, for monitoring"
        )
        parser.add_argument(
            "--stuck-after",
            type=int,
            metavar="SECONDS",
            help="A pending photo with no live job for this long counts as stuck (default: the sweeper's delay, "
            "GLOWWORM_STUCK_AFTER + GLOWWORM_SWEEP_INTERVAL)",
        )

    def handle(self, *args, as_json: bool, stuck_after: int, **options) -> None:
        private = doctor.use_private_redis_if_running()
        if private and not as_json:
            self.stdout.write(f"REDIS_URL is unset; using the private Redis of `make run` at {private}\n")
        findings = doctor.run_checks(stuck_after=None if stuck_after is None else timedelta(seconds=stuck_after))
        broken = any(finding.status == doctor.ERROR for finding in findings)
        if as_json:
            self.print_json(findings, broken)
        else:
            self.print_text(findings, broken)
        if broken:
            sys.exit(1)

    def print_json(self, findings: list[doctor.Finding], broken: bool) -> None:
        body = {
            "ok": not broken,
            "checks": [dict(f.as_dict(), seconds=round(f.seconds, 4)) for f in findings],
        }
        self.stdout.write(json.dumps(body, indent=2, default=str))

    def print_text(self, findings: list[doctor.Finding], broken: bool) -> None:
        colour = self.stdout.isatty()
        width = max(len(f.name) for f in findings)
        for finding in findings:
            label = LABELS[finding.status].ljust(4)
            if colour and finding.status in COLOURS:
                label = f"{COLOURS[finding.status]}{label}{RESET}"
            timing = f"({finding.seconds * 1000:.0f} ms)"
            self.stdout.write(f"{label} {finding.name.ljust(width)}  {finding.summary} {timing}")
            if finding.fix and finding.status in (doctor.WARN, doctor.ERROR):
                self.stdout.write(f"     {' ' * width}  fix: {finding.fix}")
        errors = sum(f.status == doctor.ERROR for f in findings)
        warnings = sum(f.status == doctor.WARN for f in findings)
        if broken:
            self.stdout.write(f"\n{errors} broken, {warnings} warnings: fix the FAIL lines first, top to bottom.")
        elif warnings:
            self.stdout.write(f"\nNothing broken; {warnings} warnings.")
        else:
            self.stdout.write("\nAll good.")
