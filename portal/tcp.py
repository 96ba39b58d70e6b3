"""TCP_NODELAY on daphne's connections, and one accept per wake-up.

Daphne writes a response's headers and its body as two writes. With Nagle's algorithm on
(Twisted leaves it on), the body waits until the client acknowledges the headers, and a
client delays that acknowledgement by up to 40 ms: every small API response took about 40 ms
longer than the server spent on it (`bench/search_latency.py`, HTTP p50 against server-side).
"""

import logging

log = logging.getLogger(__name__)


def enable_tcp_nodelay() -> bool:
    """Patch daphne's HTTP factory so that each new connection sets TCP_NODELAY. Idempotent;
    False where daphne is not installed (nothing to patch)."""
    try:
        from daphne.http_protocol import HTTPFactory
    except ImportError:
        return False
    return _wrap_once(HTTPFactory, "buildProtocol", _with_nodelay)


def _with_nodelay(build):
    def build_protocol(self, addr):
        protocol = build(self, addr)
        # The listening port hands each accepted transport to makeConnection (Twisted wraps
        # the HTTP channel in a proxy, so the channel's own connectionMade is out of reach).
        protocol.makeConnection = _nodelay_then(protocol.makeConnection)
        return protocol

    return build_protocol


def _nodelay_then(make):
    def make_connection(transport):
        try:
            transport.setTcpNoDelay(True)
        except (AttributeError, OSError) as error:  # not a TCP transport (a UNIX socket)
            log.debug("TCP_NODELAY not set: %s", error)
        make(transport)

    return make_connection


def accept_one_at_a_time() -> bool:
    """Each wake-up of a listening port accepts one connection (Twisted accepts up to 100, and
    more after a full batch). Several server processes share one listening socket
    (``portal.serve``): with batches, whichever woke first took a burst of new connections, and
    kept-alive clients stayed unevenly spread (20 clients: 5 / 15 and 13 / 7 between two
    processes, the busier one's answers twice as slow). One at a time, the processes take turns
    (10 / 10, 12 / 8), and a busy process, slower to wake, takes fewer. Idempotent."""
    try:
        from twisted.internet import tcp
    except ImportError:
        return False
    tcp.Port.numberAccepts = property(lambda self: 1, lambda self, value: None)  # Twisted assigns it
    return True


def skip_form_parsing() -> bool:
    """Twisted's request parses every multipart POST body into ``request.args`` (a copy of the
    upload, through the email parser) before daphne hands the raw body to Django, which parses
    it again; daphne never reads ``args``. Off: a few percent of a search's server time, and
    one copy less of each upload in memory. Idempotent."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return False
    return _wrap_once(WebRequest, "__init__", _without_form_parsing)


def _without_form_parsing(init):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)  # Twisted's own switch; daphne passes kwargs on
        init(self, *args, **kwargs)

    return __init__


def _wrap_once(cls, name: str, wrap) -> bool:
    """Replaces ``cls.name`` by ``wrap(cls.name)``, once however often it is asked."""
    flag = f"_portal_wrapped_{name}"
    if not cls.__dict__.get(flag, False):
        setattr(cls, name, wrap(getattr(cls, name)))
        setattr(cls, flag, True)
    return True
