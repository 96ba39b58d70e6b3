"""The websocket routes: queries of every kind, and the training-run watcher. Any other path
is refused at the handshake (403) with one log line, never a traceback."""

from django.urls import path, re_path

from retrieval.core.consumers import SearchConsumer, UnknownPathConsumer
from retrieval.training.consumers import TrainingRunConsumer

websocket_urlpatterns = [
    path("ws/search/", SearchConsumer.as_asgi()),
    path("ws/training/<str:run_id>/", TrainingRunConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),  # last
]
