"""ASGI entry point: HTTP through Django, websockets through Channels.

The server process warms the retrieval engine once here (models and indexes loaded
before the first request), and marks training runs that a previous server process left
running as interrupted; management commands load lazily instead.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("PORTAL_WARM_ENGINE", "1")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from retrieval.routing import websocket_urlpatterns  # noqa: E402
from retrieval.training.worker import server_started  # noqa: E402

server_started()  # here, not in AppConfig.ready(): it reads the database

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    # Sessions identify staff on the training sockets (visitors may watch public runs only).
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
