from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

urlpatterns = [
    path("", include("retrieval.urls")),
    path("api/", include("retrieval.api_urls")),
    path("admin/", admin.site.urls),
    # Gallery files are served by Django here; a deployment lets its web server serve MEDIA_ROOT.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]
