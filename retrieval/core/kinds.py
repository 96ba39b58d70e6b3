"""Query kinds: each way of querying a gallery (an image, a sketch, a degraded image ...) is
declared once, in its capability's ``register.py``, as a ``QueryKind``.

The declaration is all the rest of the portal needs: the URL configuration mounts each kind's
page and API routes, the search websocket dispatches ``{"type": <name>, ...}`` messages to its
``start``, the start-up warms it, and ``manage.py evaluate`` offers its evaluation task. This
module is a leaf: it imports no capability (``apps.py`` imports their registrations).
"""

from collections.abc import Callable
from dataclasses import dataclass

from retrieval.core.evaluation import EvaluationTask, register_evaluation
from retrieval.core.streams import QueryStream
from retrieval.engine.registry import Registry
from retrieval.engine.runtime import SearchPair


@dataclass(frozen=True)
class ApiRoute:
    path: str  # under /api/
    view: type  # a DRF view class
    name: str  # the URL name in the "api" namespace (stable: clients and tests reverse it)


@dataclass(frozen=True)
class QueryKind:
    name: str  # the websocket message type, e.g. "sketch"
    title: str  # what the navigation calls its page
    page_path: str  # its page's URL path ("" is the site's root)
    page_name: str  # the page's URL name in the "retrieval" namespace
    page: Callable  # the page view: GET shows the form (or runs a linked query), POST searches
    start: Callable[[dict], tuple[str, QueryStream | None]]  # a websocket message -> first fragments, result stream
    api: tuple[ApiRoute, ...] = ()  # its JSON endpoints, the query endpoint first
    evaluation: EvaluationTask | None = None  # `manage.py evaluate <name>`
    warm: Callable[[SearchPair], None] | None = None  # at server start-up, given the default gallery's loaded pair


QUERY_KINDS = Registry("query kind")


def register_kind(kind: QueryKind) -> QueryKind:
    QUERY_KINDS.register(kind.name)(kind)
    if kind.evaluation is not None:
        register_evaluation(kind.evaluation)
    return kind


def query_kinds() -> list[QueryKind]:
    return QUERY_KINDS.values()
