"""The RQ worker class Glowworm runs (settings.RQ["WORKER_CLASS"])."""

from rq import Worker


class GlowwormWorker(Worker):
    """An RQ worker that registers itself again when Redis lost its data (a restart without persistence, a
    FLUSHALL): stock RQ only refreshes the expiry of a key that is gone, so /healthz, `doctor` and the sweeper
    would count no workers until each one restarted."""

    def heartbeat(self, timeout=None, pipeline=None):
        if not self.connection.exists(self.key):
            self.register_birth()
        return super().heartbeat(timeout=timeout, pipeline=pipeline)
