"""The galleries' JSON API: galleries, their images, one image and its nearest neighbours."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from retrieval.core.api import JsonApi, NamedLookup, error_responses, valid_data
from retrieval.core.results import explain_hits, open_gallery_image
from retrieval.core.serializers import NeighboursParamsSerializer
from retrieval.galleries import selectors
from retrieval.galleries.forms import NeighboursForm
from retrieval.galleries.serializers import (
    GalleryImageSerializer,
    GallerySerializer,
    ImageListParamsSerializer,
    NeighboursResponseSerializer,
)
from retrieval.models import Gallery, GalleryImage


@extend_schema(summary="List galleries", description="Every gallery the portal can search, with its classes and size.")
class GalleryListView(JsonApi, generics.ListAPIView):
    serializer_class = GallerySerializer
    pagination_class = None  # a handful of galleries

    def get_queryset(self):
        return selectors.gallery_list()


@extend_schema(summary="One gallery", description="A gallery by its slug: its classes, image counts and index.",
               responses={200: GallerySerializer, **error_responses(404)})
class GalleryDetailView(NamedLookup, generics.RetrieveAPIView):
    serializer_class = GallerySerializer
    missing = "There is no gallery called {slug!r}."
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.gallery_list()


@extend_schema(summary="A gallery's images, 50 a page",
               description="The gallery's images in order, filtered by class (`label`) and split when asked.",
               parameters=[ImageListParamsSerializer],
               responses={200: GalleryImageSerializer(many=True), **error_responses(400, 404)})
class GalleryImagesView(JsonApi, generics.ListAPIView):
    serializer_class = GalleryImageSerializer

    def get_queryset(self):
        gallery = Gallery.objects.filter(slug=self.kwargs["slug"]).first()
        if gallery is None:
            raise NotFound(GalleryDetailView.missing.format(**self.kwargs))
        params = ImageListParamsSerializer(data=self.request.query_params, context={"gallery": gallery})
        params.is_valid(raise_exception=True)
        return selectors.gallery_images(gallery=gallery, **params.validated_data).select_related("gallery")


@extend_schema(summary="One gallery image", description="A gallery image by id: its class, split and file URL.",
               responses={200: GalleryImageSerializer, **error_responses(404)})
class ImageDetailView(NamedLookup, generics.RetrieveAPIView):
    serializer_class = GalleryImageSerializer
    missing = "There is no gallery image with id {pk}."
    queryset = GalleryImage.objects.select_related("gallery")


class ImageNeighboursView(NamedLookup, generics.GenericAPIView):
    missing = ImageDetailView.missing
    queryset = GalleryImage.objects.select_related("gallery")
    serializer_class = NeighboursResponseSerializer

    @extend_schema(summary="The gallery images closest to one image",
                   description="The k nearest gallery images to a gallery image (itself left out), closest first, "
                               "each with its distance and histogram explanation.",
                   parameters=[NeighboursParamsSerializer],
                   responses={200: NeighboursResponseSerializer, **error_responses(400, 404, 503)})
    def get(self, request, pk: int):
        image = self.get_object()
        # The image's own gallery, whatever the default gallery is.
        params = valid_data(NeighboursForm({**request.query_params.dict(), "gallery": image.gallery.slug}))
        hits = selectors.image_neighbours(image=image, k=params["k"], metric=params["metric"])
        results = list(explain_hits(open_gallery_image(image.file.name), hits))
        body = {"image": image, "k": params["k"], "metric": params["metric"], "results": results}
        return Response(self.get_serializer(body).data)
