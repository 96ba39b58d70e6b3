"""API shapes: what each endpoint returns, the image-list query parameters, and (for the
OpenAPI schema only) what the search accepts.

The search and neighbours inputs are validated by the Django forms in forms.py, so the
page and the API share one set of rules; the request serializers here merely describe
those rules, built from the forms' own constants so the two cannot drift apart.
"""

import copy

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from retrieval.core.forms import DEFAULT_K, DEFAULT_METRIC, METRIC_CHOICES, max_k
from retrieval.core.links import reverse_id
from retrieval.models import GalleryImage

# --- links -----------------------------------------------------------------------------


def image_api_url(image: GalleryImage) -> str:
    return reverse_id("api:image", pk=image.pk)


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteUrlField(serializers.Field):
    """A read-only absolute link, ``url_of(obj)`` resolved against the request's host."""

    def __init__(self, url_of, **kwargs):
        self.url_of = url_of
        kwargs.setdefault("source", "*")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        request = self.context.get("request")
        url = self.url_of(value)
        return request.build_absolute_uri(url) if request is not None else url


# --- responses ---------------------------------------------------------------------------


class ResponseSerializer(serializers.Serializer):
    """A response shape whose fields are copied shallowly for each response. DRF deep-copies a
    serializer's declared fields per instance, which re-runs every field's ``__init__``: for a
    search response that was more than the results' own serialisation (py-spy). A shallow copy
    of a leaf field is enough for output (binding sets new attributes; nothing shared is
    mutated); nested serializers are still deep-copied, as they bind children of their own."""

    def get_fields(self):
        return {name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
                for name, field in self._declared_fields.items()}


# --- search results --------------------------------------------------------------------


class ResultSerializer(serializers.Serializer):
    """One ``core.results.ResultItem``: a gallery image, its rank and why it is close."""

    rank = serializers.IntegerField()
    id = serializers.IntegerField(source="image.pk")
    label = serializers.IntegerField(source="image.label", allow_null=True)
    label_name = serializers.CharField(source="image.label_name")
    distance = serializers.FloatField(help_text="L2 distance, or 1 - cosine similarity (0 to 2).")
    histogram_distance = serializers.FloatField(help_text="L1 distance of the colour histograms / number of bins.")
    image_url = AbsoluteUrlField(lambda image: image.file.url, source="image")
    detail_url = AbsoluteUrlField(GalleryImage.get_absolute_url, source="image", help_text="The image's page.")
    api_url = AbsoluteUrlField(image_api_url, source="image")

    def to_representation(self, item) -> dict:
        # The fields above describe the shape (the schema, and the tests that compare the two);
        # this builds it directly: field by field, DRF spent about 0.3 ms a result, more
        # than the search itself.
        image, absolute = item.image, self._absolute()
        return {
            "rank": item.rank, "id": image.pk, "label": image.label, "label_name": image.label_name,
            "distance": float(item.distance), "histogram_distance": float(item.histogram_distance),
            "image_url": absolute(image.file.url),
            "detail_url": absolute(reverse_id("retrieval:image", image.gallery.slug, pk=image.pk)),
            "api_url": absolute(image_api_url(image)),
        }

    def _absolute(self):
        """url -> absolute url against the request's scheme and host (once per response)."""
        if not hasattr(self, "_origin"):
            request = self.context.get("request")
            self._origin = request.build_absolute_uri("/")[:-1] if request is not None else ""
        origin = self._origin
        return lambda url: origin + url if url.startswith("/") else url


# --- schema-only descriptions of the forms' inputs -------------------------------------


class NeighboursParamsSerializer(serializers.Serializer):
    k = serializers.IntegerField(required=False, default=DEFAULT_K, min_value=1, max_value=max_k())
    metric = serializers.ChoiceField(choices=METRIC_CHOICES, required=False, default=DEFAULT_METRIC)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A stable code, e.g. invalid_request, invalid_image, not_found.")
    detail = serializers.CharField(help_text="A sentence fit to show a user.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Messages per input field, for validation errors.")
