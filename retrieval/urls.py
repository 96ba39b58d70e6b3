"""The portal's pages and its JSON API under /api/: every registered query kind's page and
endpoints (``core.kinds``), the stored query images, the galleries, the training centre, the
OpenAPI schema and Swagger UI (assets from the sidecar). ``portal/urls.py`` mounts ``pages`` at
/ and ``api`` at /api/. Both are built by functions so that a test can build them again after
registering a kind of its own."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from retrieval.core.api import SchemaView, not_found
from retrieval.core.kinds import query_kinds
from retrieval.core.views import stored_query
from retrieval.galleries import urls as galleries
from retrieval.training import urls as training


def page_patterns() -> list:
    return ([path(kind.page_path, kind.page, name=kind.page_name) for kind in query_kinds()]
            # Any id reaches the view, which answers a plain 404 for a malformed one too.
            + [path("queries/<path:query_id>/", stored_query, name="query")]
            + galleries.pages + training.pages)


def api_patterns() -> list:
    return ([path(route.path, route.view.as_view(), name=route.name) for kind in query_kinds() for route in kind.api]
            + galleries.endpoints + training.endpoints + [
                path("schema/", SchemaView.as_view(), name="schema"),
                path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
                re_path(r"", not_found),  # last: any other /api/ path gets a JSON 404
            ])


pages = (page_patterns(), "retrieval")
api = (api_patterns(), "api")
