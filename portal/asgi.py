"""ASGI entry point: HTTP through Django, websockets through Channels.

Under daphne the port opens at once: this module returns an application that answers
"starting" (503 with Retry-After; sockets refused) while a background thread sets Django up,
then serves through Django while the models load ("warming up", see
``portal.middleware.WarmingUpMiddleware``). The same thread then removes temporary files
that interrupted writes left behind, marks training runs a previous process left running
as interrupted, and builds what search does not need at once (``portal.startup``).
Where Django is already set up (tests, Channels' live server), the application is built here.
"""

import json
import logging
import os
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("PORTAL_WARM_ENGINE", "1")

log = logging.getLogger("portal.asgi")

from portal.tcp import accept_one_at_a_time, enable_tcp_nodelay, skip_form_parsing  # noqa: E402 -- daphne imports this module before it listens

enable_tcp_nodelay()
accept_one_at_a_time()
skip_form_parsing()


def build_application():
    import django
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter

    django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application
    from portal.threads import PooledThreadsASGIHandler

    django_asgi_app = PooledThreadsASGIHandler()  # request threads (and their connections) reused

    from portal.websocket import SameOriginValidator
    from retrieval.routing import websocket_urlpatterns

    return ProtocolTypeRouter({
        "http": django_asgi_app,
        # Sessions identify staff on the training sockets (visitors may watch public runs only).
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    })


STARTING_PAGE = (b"<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3>"
                 b"<title>Starting</title><p>The portal is starting: this page reloads in a few seconds.")
STARTING_JSON = json.dumps({"error": "warming_up", "detail": "The portal is starting: try again in a few seconds."}).encode()


async def answer_starting(scope, receive, send) -> None:
    """What the server answers before Django is loaded."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1013})  # before accept: a 403 handshake
        return
    if scope["type"] != "http":
        return
    api = scope.get("path", "").startswith("/api/")
    body = STARTING_JSON if api else STARTING_PAGE
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json" if api else b"text/html; charset=utf-8"),
        (b"retry-after", b"3"), (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


class StartingApplication:
    """Serves ``answer_starting`` until the real application is built in the background."""

    def __init__(self):
        self.application = None

    def start(self) -> "StartingApplication":
        threading.Thread(target=self._load, name="portal-start-up", daemon=True).start()
        return self

    def _load(self) -> None:
        try:
            application = build_application()
            from portal import startup

            startup.before_serving()
            self.application = application
            startup.after_serving()
        except Exception:  # noqa: BLE001 - a broken start-up must say why, and keep answering 503
            log.exception("the portal did not start")

    async def __call__(self, scope, receive, send):
        if self.application is None:
            return await answer_starting(scope, receive, send)
        return await self.application(scope, receive, send)


def _django_ready() -> bool:
    from django.apps import apps

    return apps.ready


application = build_application() if _django_ready() else StartingApplication().start()
