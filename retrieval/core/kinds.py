"""Query kinds: each way of querying a gallery (an image, a sketch, a degraded image ...) is
declared once, in its capability's ``register.py``, as a ``QueryKind``.

The declaration is all the rest of the portal needs: the URL configuration mounts each kind's
page (``core.views.query_page``), its query endpoint (``core.api.query_api_view``) and its other
API routes; the search websocket dispatches ``{"type": <name>, ...}`` messages to its ``start``
(``core.streams.start_query``); the start-up warms it; ``manage.py evaluate`` offers its
evaluation task. This module imports no capability (``apps.py`` imports their registrations).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from retrieval.core.evaluation import EvaluationTask, register_evaluation
from retrieval.engine.registry import Registry
from retrieval.engine.runtime import SearchPair


@dataclass(frozen=True)
class ApiRoute:
    path: str  # under /api/
    view: type  # a DRF view class
    name: str  # the URL name in the "api" namespace (stable: clients and tests reverse it)


@dataclass(frozen=True)
class QueryApi:
    """A kind's query endpoint (POST, JSON or ``?format=csv``), described for the OpenAPI schema."""

    path: str  # under /api/
    name: str  # the URL name in the "api" namespace
    summary: str
    description: str
    request: type  # a serializer describing the input (the kind's form validates it)
    response: type  # the serializer of the JSON body
    body: Callable[[object], object] | None = None  # outcome -> what ``response`` serializes (default: the outcome)
    noun: str = "query"  # what a malformed request is told to send ("Send the sketch as a form ...")


@dataclass(frozen=True)
class QueryKind:
    name: str  # the websocket message type, e.g. "sketch"
    title: str  # what the navigation calls its page
    page_path: str  # its page's URL path ("" is the site's root)
    page_name: str  # the page's URL name in the "retrieval" namespace
    form: type  # validates a query from a page post, a link, a websocket message or the API
    search: Callable[[dict], object]  # cleaned data -> outcome with every hit explained (page, API, CSV)
    stream: Callable[[dict, object], tuple[dict, object]]  # (cleaned data, example) -> first fragment's context, QueryStream
    results: Callable[[object, object, object], dict]  # (form, outcome or None, example) -> results fragment context
    page_context: Callable[[object], dict]  # the form -> the full page's controls
    page_template: str
    results_template: str
    rows: Callable[[object], Iterable[tuple[tuple, object]]]  # outcome -> (leading CSV cells, ResultItem) in order
    row_columns: tuple[str, ...] = ()  # names of the leading CSV cells (degraded: "row")
    link_fields: Callable[[dict], dict] | tuple[str, ...] = ()  # the kind's own link parameters, from cleaned data
    query_api: QueryApi | None = None  # its query endpoint
    api_routes: tuple[ApiRoute, ...] = ()  # its other JSON endpoints
    evaluation: EvaluationTask | None = None  # `manage.py evaluate <name>`
    warm: Callable[[SearchPair], None] | None = None  # at server start-up, given the default gallery's loaded pair

    @cached_property
    def page(self) -> Callable:
        from retrieval.core.views import query_page

        return query_page(self)

    def start(self, message: dict):
        """A websocket message -> the first fragments and a ``QueryStream`` (or None)."""
        from retrieval.core.streams import start_query

        return start_query(self, message)

    @cached_property
    def api(self) -> tuple[ApiRoute, ...]:
        """Its JSON endpoints, the query endpoint first."""
        if self.query_api is None:
            return self.api_routes
        from retrieval.core.api import query_api_view

        return (ApiRoute(self.query_api.path, query_api_view(self), self.query_api.name), *self.api_routes)


QUERY_KINDS = Registry("query kind")


def register_kind(kind: QueryKind) -> QueryKind:
    QUERY_KINDS.register(kind.name)(kind)
    if kind.evaluation is not None:
        register_evaluation(kind.evaluation)
    return kind


def unregister_kind(name: str) -> None:
    """Forget a kind (tests that register a kind of their own clean up with this)."""
    QUERY_KINDS._entries.pop(name, None)  # the engine's Registry has no removal: only tests need one


def query_kinds() -> list[QueryKind]:
    return QUERY_KINDS.values()
