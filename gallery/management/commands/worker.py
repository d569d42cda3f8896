"""`python manage.py worker`: one RQ render worker, listening to every queue in order, at a lower CPU priority.

The one place the queue order lives on a command line: the maintenance queue (the sweep, frame schedules), then
thumbs, variants and bulk (processing/jobs.py). `nice` keeps the web server quick while workers render.
"""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from processing.jobs import WORKER_QUEUES


class Command(BaseCommand):
    help = "Run an RQ worker on the maintenance, thumbs, variants and bulk queues, niced (GLOWWORM_WORKER_NICE)."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Quit when the queues are empty")
        parser.add_argument("--with-scheduler", action="store_true", help="Also run RQ's scheduler (retries)")
        parser.add_argument("--name", help="The worker's name (unique per running worker)")
        parser.add_argument("--worker-ttl", type=int, default=60, help="Seconds without a heartbeat before it is dead")

    def handle(self, *args, burst: bool, with_scheduler: bool, name: str | None, worker_ttl: int, **options):
        if settings.GLOWWORM_WORKER_NICE:
            os.nice(settings.GLOWWORM_WORKER_NICE)
        arguments = [*WORKER_QUEUES, "--worker-ttl", str(worker_ttl)]
        if burst:
            arguments.append("--burst")
        if with_scheduler:
            arguments.append("--with-scheduler")
        if name:
            arguments += ["--name", name]
        call_command("rqworker", *arguments)
