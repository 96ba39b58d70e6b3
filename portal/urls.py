from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from retrieval import urls as retrieval_urls

urlpatterns = [
    # The API first: every page pattern that fails to match a request costs time (Django
    # records each one it tried), and API clients are the ones that call in loops.
    path("api/", include(retrieval_urls.api)),
    path("", include(retrieval_urls.pages)),
    path("admin/", admin.site.urls),
    # Gallery files are served by Django here; a deployment lets its web server serve MEDIA_ROOT.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]
