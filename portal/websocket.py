"""Websocket handshakes: the origin check that compares scheme, host and port.

Channels' ``AllowedHostsOriginValidator`` compares the Origin's host with ALLOWED_HOSTS and
ignores its scheme and port, so a page served from any port of an allowed host (another
application on ``http://127.0.0.1:9999``) could open the portal's sockets with the visitor's
session. Here the Origin must be the portal's own origin, as the handshake's Host header
names it (scheme http, or https behind TLS), on an allowed host, or one listed in
``PORTAL_ALLOWED_ORIGINS``. A refused handshake is a 403 and one log line.
"""

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

log = logging.getLogger("portal.websocket")
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None if unparseable."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def own_origin(scope) -> tuple[str, str, int] | None:
    """The origin a page of this server has: the handshake's Host header (or the server's
    address when there is none), with https when the portal is served over TLS."""
    headers = dict(scope.get("headers") or [])
    secure = settings.PORTAL_HTTPS or scope.get("scheme") == "wss"
    scheme = "https" if secure else "http"
    host = headers.get(b"host", b"").decode("latin1")
    if not host:
        server = scope.get("server")
        if not server:
            return None
        host = f"{server[0]}:{server[1]}"
    return normalise_origin(f"{scheme}://{host}")


def origin_allowed(scope) -> bool:
    origin = dict(scope.get("headers") or []).get(b"origin", b"").decode("latin1")
    parsed = normalise_origin(origin) if origin else None
    if parsed is None:
        return False
    if parsed in {normalise_origin(o) for o in settings.PORTAL_ALLOWED_ORIGINS}:
        return True
    expected = own_origin(scope)
    host, _ = split_domain_port(f"{parsed[1]}:{parsed[2]}")
    if expected is None:  # no Host header and no server address (in-process tests): default port only
        expected = (parsed[0], parsed[1], DEFAULT_PORTS[parsed[0]])
    return parsed == expected and validate_host(host or parsed[1], settings.ALLOWED_HOSTS)


class SameOriginValidator:
    """ASGI middleware: websocket handshakes from another origin are denied (403)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            origin = dict(scope.get("headers") or []).get(b"origin", b"(none)").decode("latin1")
            log.warning("websocket %s refused: origin %s is not this site's", scope.get("path"), origin[:200])
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
