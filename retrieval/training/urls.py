"""The training centre's pages and JSON endpoints (mounted by ``retrieval/urls.py``)."""

from django.urls import path

from retrieval.training import api, views

pages = [
    path("training/", views.training_list, name="training"),
    path("training/default/", views.training_reset, name="training-reset"),
    path("training/<int:pk>/", views.training_run, name="training-run"),
    path("training/<int:pk>/cancel/", views.training_cancel, name="training-cancel"),
    path("training/<int:pk>/activate/", views.training_activate, name="training-activate"),
]
endpoints = [
    path("training/families/", api.TrainerListView.as_view(), name="training-families"),
    path("training/runs/", api.TrainingRunListView.as_view(), name="training-runs"),
    path("training/runs/<int:pk>/", api.TrainingRunDetailView.as_view(), name="training-run"),
    path("training/runs/<int:pk>/cancel/", api.TrainingRunCancelView.as_view(), name="training-run-cancel"),
    path("training/runs/<int:pk>/activate/", api.TrainingRunActivateView.as_view(), name="training-run-activate"),
]
