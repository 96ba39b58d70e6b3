from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from retrieval import urls as retrieval_urls

urlpatterns = [
    path("", include(retrieval_urls.pages)),
    path("api/", include(retrieval_urls.api)),
    path("admin/", admin.site.urls),
    # Gallery files are served by Django here; a deployment lets its web server serve MEDIA_ROOT.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]
