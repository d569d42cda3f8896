"""HTTP and websocket entry point, served by Daphne."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glowworm.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from glowworm.daphne_tuning import FixedRootPath, cap_request_bodies, skip_twisted_form_parsing  # noqa: E402
from glowworm.routing import websocket_urlpatterns  # noqa: E402
from processing.auth import BearerTokenMiddleware  # noqa: E402

skip_twisted_form_parsing()
cap_request_bodies()

application = FixedRootPath(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(BearerTokenMiddleware(URLRouter(websocket_urlpatterns)))
            ),
        }
    ),
    settings.GLOWWORM_ROOT_PATH,
)
