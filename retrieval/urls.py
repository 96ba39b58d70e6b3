"""The portal's pages and its JSON API under /api/: every registered query kind's page and
endpoints (``core.kinds``), the galleries, the training centre, the OpenAPI schema and Swagger
UI (assets from the sidecar). ``portal/urls.py`` mounts ``pages`` at / and ``api`` at /api/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from retrieval.core.api import not_found
from retrieval.core.kinds import query_kinds
from retrieval.galleries import urls as galleries
from retrieval.training import urls as training

kinds = query_kinds()
pages = ([path(kind.page_path, kind.page, name=kind.page_name) for kind in kinds]
         + galleries.pages + training.pages, "retrieval")
api = ([path(route.path, route.view.as_view(), name=route.name) for kind in kinds for route in kind.api]
       + galleries.endpoints + training.endpoints + [
           path("schema/", SpectacularAPIView.as_view(), name="schema"),
           path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
           re_path(r"", not_found),  # last: any other /api/ path gets a JSON 404
       ], "api")
