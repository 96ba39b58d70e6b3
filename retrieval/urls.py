from django.urls import path

from . import views

app_name = "retrieval"
urlpatterns = [
    path("", views.search, name="search"),
    path("galleries/", views.gallery_list, name="galleries"),
    path("galleries/<slug:slug>/", views.gallery_detail, name="gallery"),
    path("galleries/<slug:slug>/images/<int:pk>/", views.image_detail, name="image"),
]
