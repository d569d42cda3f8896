"""One Daphne setting that has no option: imported by glowworm.asgi, so it applies wherever Daphne serves us."""

from daphne.http_protocol import WebRequest


def skip_twisted_form_parsing() -> None:
    """Twisted parses every buffered POST body, multipart included, into request.args, which Daphne never reads
    (Django parses the body itself, streaming it to disk). For a 12 MB photo that cost ~350 ms of CPU per upload."""
    original = WebRequest.__init__
    if getattr(original, "skips_form_parsing", False):
        return

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    __init__.skips_form_parsing = True
    WebRequest.__init__ = __init__


class FixedRootPath:
    """ASGI middleware: the root path is ours to set (GLOWWORM_ROOT_PATH), never the client's. Daphne takes it from
    a `Daphne-Root-Path` request header, which would let anyone change the prefix of every URL we build."""

    def __init__(self, app, root_path: str = ""):
        self.app = app
        self.root_path = root_path.rstrip("/")

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("root_path", "") != self.root_path:
            scope = dict(scope, root_path=self.root_path)
        return await self.app(scope, receive, send)
