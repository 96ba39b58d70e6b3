"""The websocket routes: queries of every kind, and the training-run watcher."""

from django.urls import path

from retrieval.core.consumers import SearchConsumer
from retrieval.training.consumers import TrainingRunConsumer

websocket_urlpatterns = [
    path("ws/search/", SearchConsumer.as_asgi()),
    path("ws/training/<str:run_id>/", TrainingRunConsumer.as_asgi()),
]
