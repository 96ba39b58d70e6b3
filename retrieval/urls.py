from django.urls import path

from . import degraded_views, sketch_views, training_views, views

app_name = "retrieval"
urlpatterns = [
    path("", views.search, name="search"),
    path("sketch/", sketch_views.sketch, name="sketch"),
    path("degraded/", degraded_views.degraded, name="degraded"),
    path("galleries/", views.gallery_list, name="galleries"),
    path("galleries/<slug:slug>/", views.gallery_detail, name="gallery"),
    path("galleries/<slug:slug>/images/<int:pk>/", views.image_detail, name="image"),
    path("training/", training_views.training_list, name="training"),
    path("training/default/", training_views.training_reset, name="training-reset"),
    path("training/<int:pk>/", training_views.training_run, name="training-run"),
    path("training/<int:pk>/cancel/", training_views.training_cancel, name="training-cancel"),
    path("training/<int:pk>/activate/", training_views.training_activate, name="training-activate"),
]
