"""The JSON API: thin views that validate, call one service or selector, and serialize.

Every failure is raised, not returned: ``api_errors.exception_handler`` turns it into the
API's error shape and status, so no view here builds an error response.
"""

from collections.abc import Mapping

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .api_errors import InvalidInput
from .forms import ImageSearchForm, NeighboursForm
from .models import Gallery, GalleryImage
from .serializers import (
    ErrorSerializer,
    GalleryImageSerializer,
    GallerySerializer,
    ImageListParamsSerializer,
    NeighboursParamsSerializer,
    NeighboursResponseSerializer,
    SearchRequestSerializer,
    SearchResponseSerializer,
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorSerializer) for status in statuses}


def valid_data(form):
    """The form's cleaned data, or raise so the handler answers 400/413."""
    if not form.is_valid():
        raise InvalidInput(form)
    return form.cleaned_data


def valid_query(request, form_class, what: str) -> dict:
    """A query posted as a form or a JSON object, validated by ``form_class``."""
    if not isinstance(request.data, Mapping):  # e.g. a JSON list
        raise ParseError(f"Send the {what} as a form or a JSON object.")
    return valid_data(form_class(request.data, request.FILES))


class JsonApi:
    """JSON only, errors included: the browsable API would answer browsers in HTML, and
    Swagger UI at /api/docs/ already lets people try the endpoints."""

    renderer_classes = (JSONRenderer,)


class NamedLookup(JsonApi):
    """A 404 that says what was looked for, rather than DRF's "No X matches the given query"."""

    missing = "Not found."

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(self.missing.format(**self.kwargs)) from None


class SearchView(JsonApi, APIView):
    parser_classes = (MultiPartParser, FormParser, JSONParser)

    @extend_schema(
        summary="Search a gallery by image",
        description="Send the query as a file (`image`) or a base64 data URL (`image_data`). "
                    "Results are sorted by distance, closest first.",
        request={"multipart/form-data": SearchRequestSerializer, "application/json": SearchRequestSerializer},
        responses={200: SearchResponseSerializer, **error_responses(400, 413, 415, 503)},
    )
    def post(self, request):
        data = valid_query(request, ImageSearchForm, "search")
        outcome = services.image_search(gallery=data["gallery"], data=data["image_bytes"], k=data["k"], metric=data["metric"])
        return Response(SearchResponseSerializer(outcome, context={"request": request}).data)


@extend_schema(summary="List galleries")
class GalleryListView(JsonApi, generics.ListAPIView):
    serializer_class = GallerySerializer
    pagination_class = None  # a handful of galleries

    def get_queryset(self):
        return selectors.gallery_list()


@extend_schema(summary="One gallery", responses={200: GallerySerializer, **error_responses(404)})
class GalleryDetailView(NamedLookup, generics.RetrieveAPIView):
    serializer_class = GallerySerializer
    missing = "There is no gallery called {slug!r}."
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.gallery_list()


@extend_schema(summary="A gallery's images, 50 a page", parameters=[ImageListParamsSerializer],
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


@extend_schema(summary="One gallery image", responses={200: GalleryImageSerializer, **error_responses(404)})
class ImageDetailView(NamedLookup, generics.RetrieveAPIView):
    serializer_class = GalleryImageSerializer
    missing = "There is no gallery image with id {pk}."
    queryset = GalleryImage.objects.select_related("gallery")


class ImageNeighboursView(NamedLookup, generics.GenericAPIView):
    missing = ImageDetailView.missing
    queryset = GalleryImage.objects.select_related("gallery")
    serializer_class = NeighboursResponseSerializer

    @extend_schema(summary="The gallery images closest to one image", parameters=[NeighboursParamsSerializer],
                   responses={200: NeighboursResponseSerializer, **error_responses(400, 404, 503)})
    def get(self, request, pk: int):
        image = self.get_object()
        # The image's own gallery, whatever the default gallery is.
        params = valid_data(NeighboursForm({**request.query_params.dict(), "gallery": image.gallery.slug}))
        hits = selectors.image_neighbours(image=image, k=params["k"], metric=params["metric"])
        results = list(services.explain_hits(services.open_gallery_image(image.file.name), hits))
        body = {"image": image, "k": params["k"], "metric": params["metric"], "results": results}
        return Response(self.get_serializer(body).data)
