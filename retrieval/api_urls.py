"""The JSON API under /api/, its OpenAPI schema and Swagger UI (assets from the sidecar)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import api, api_sketch, api_training, degraded_api
from .api_errors import not_found

app_name = "api"
urlpatterns = [
    path("search/", api.SearchView.as_view(), name="search"),
    path("sketch/search/", api_sketch.SketchSearchView.as_view(), name="sketch-search"),
    path("sketch/modes/", api_sketch.SketchModesView.as_view(), name="sketch-modes"),
    path("degraded/", degraded_api.DegradedSearchView.as_view(), name="degraded"),
    path("degraded/degradations/", degraded_api.DegradationListView.as_view(), name="degradations"),
    path("galleries/", api.GalleryListView.as_view(), name="galleries"),
    path("galleries/<slug:slug>/", api.GalleryDetailView.as_view(), name="gallery"),
    path("galleries/<slug:slug>/images/", api.GalleryImagesView.as_view(), name="gallery-images"),
    path("images/<int:pk>/", api.ImageDetailView.as_view(), name="image"),
    path("images/<int:pk>/neighbours/", api.ImageNeighboursView.as_view(), name="image-neighbours"),
    path("training/families/", api_training.TrainerListView.as_view(), name="training-families"),
    path("training/runs/", api_training.TrainingRunListView.as_view(), name="training-runs"),
    path("training/runs/<int:pk>/", api_training.TrainingRunDetailView.as_view(), name="training-run"),
    path("training/runs/<int:pk>/cancel/", api_training.TrainingRunCancelView.as_view(), name="training-run-cancel"),
    path("training/runs/<int:pk>/activate/", api_training.TrainingRunActivateView.as_view(), name="training-run-activate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", not_found),  # last: any other /api/ path gets a JSON 404
]
