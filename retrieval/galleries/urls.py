"""The galleries' pages and JSON endpoints (mounted by ``retrieval/urls.py``)."""

from django.urls import path

from retrieval.galleries import api, views

pages = [
    path("galleries/", views.gallery_list, name="galleries"),
    path("galleries/<slug:slug>/", views.gallery_detail, name="gallery"),
    path("galleries/<slug:slug>/images/<int:pk>/", views.image_detail, name="image"),
]
endpoints = [
    path("galleries/", api.GalleryListView.as_view(), name="galleries"),
    path("galleries/<slug:slug>/", api.GalleryDetailView.as_view(), name="gallery"),
    path("galleries/<slug:slug>/images/", api.GalleryImagesView.as_view(), name="gallery-images"),
    path("images/<int:pk>/", api.ImageDetailView.as_view(), name="image"),
    path("images/<int:pk>/neighbours/", api.ImageNeighboursView.as_view(), name="image-neighbours"),
]
