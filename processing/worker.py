"""The RQ worker class Glowworm runs (settings.RQ["WORKER_CLASS"])."""

from rq import Worker
from rq.serializers import JSONSerializer


class GlowwormWorker(Worker):
    """An RQ worker that registers itself again when Redis lost its data (a restart without persistence, a
    FLUSHALL): stock RQ only refreshes the expiry of a key that is gone, so /healthz, `doctor` and the sweeper
    would count no workers until each one restarted."""

    def __init__(self, *args, **kwargs):
        # Job payloads are ids and strings, so they travel as JSON: nothing read from Redis ever reaches pickle
        # (a write to Redis must not become code execution here). `rqworker` passes its --serializer default,
        # pickle's, so the class insists.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)

    def heartbeat(self, timeout=None, pipeline=None):
        if not self.connection.exists(self.key):
            self.register_birth()
        return super().heartbeat(timeout=timeout, pipeline=pipeline)
