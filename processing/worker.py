"""The RQ worker class Glowworm runs (settings.RQ["WORKER_CLASS"])."""

from django.template.loader import get_template
from django.urls import get_resolver
from PIL import Image
from rq import Worker
from rq.serializers import JSONSerializer

import processing.jobs  # noqa: F401  (loaded once here, not in every job's work horse)
from gallery.fragments import TILE_TEMPLATE


def warm_up() -> None:
    """Load, before the first job, what every render job needs and Django loads lazily: the URLconf (the tiles a
    job pushes reverse URLs, and loading it imports every view and the API's schemas), the tile template and
    Pillow's format plugins.

    RQ forks a work horse per job, and a horse's loading dies with it: without this, each job paid about 220 ms of
    CPU for it again, more than the thumbnail stage's own rendering (docs/performance.md, the ingest section). No
    database work here: a connection opened before the fork would be shared by every horse."""
    get_resolver().reverse_dict  # noqa: B018  (the property populates the resolver)
    get_template(TILE_TEMPLATE)
    Image.init()


class GlowwormWorker(Worker):
    """An RQ worker that loads what jobs need before its first job (warm_up), and registers itself again when
    Redis lost its data (a restart without persistence, a FLUSHALL): stock RQ only refreshes the expiry of a key
    that is gone, so /healthz, `doctor` and the sweeper would count no workers until each one restarted."""

    def __init__(self, *args, **kwargs):
        # Job payloads are ids and strings, so they travel as JSON: nothing read from Redis ever reaches pickle
        # (a write to Redis must not become code execution here). `rqworker` passes its --serializer default,
        # pickle's, so the class insists.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)

    def work(self, *args, **kwargs):
        warm_up()
        return super().work(*args, **kwargs)

    def heartbeat(self, timeout=None, pipeline=None):
        if not self.connection.exists(self.key):
            self.register_birth()
        return super().heartbeat(timeout=timeout, pipeline=pipeline)
