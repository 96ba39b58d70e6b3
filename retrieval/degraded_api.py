"""The degraded-query JSON API: one image searched as it is, degraded and enhanced; and the
list of degradations with their parameters' ranges.

Like ``api.py``, every failure is raised and shaped by ``api_errors.exception_handler``: a
parameter out of range or an unknown degradation is a 400 whose detail names the valid
range or the known degradations; a robust descriptor that is not trained or indexed a 503.
"""


from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import JsonApi, error_responses, valid_query
from .degraded_forms import DEFAULT_DEGRADATION, DEFAULT_K, MAX_SEED, DegradedQueryForm
from .degraded_services import DESCRIPTOR_MODES, degraded_search, enhancer_for, query_arguments
from .engine.degrade import DEGRADATIONS
from .forms import DEFAULT_METRIC, METRIC_CHOICES, max_k
from .presenters import png_data_url
from .serializers import ResultSerializer


class ParamSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    default = serializers.FloatField(allow_null=True, help_text="null: drawn from the seed unless given.")
    min = serializers.FloatField()
    max = serializers.FloatField()
    step = serializers.FloatField()
    integer = serializers.BooleanField()


class DegradationSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    params = ParamSpecSerializer(many=True)
    enhancer = serializers.CharField(allow_null=True, help_text="The trained enhancer that undoes it (null: none).")


class RowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["original", "degraded", "enhanced"])
    image = serializers.CharField(help_text="PNG data URL of the image searched (the descriptor's input size).")
    results = ResultSerializer(many=True, help_text="Closest first.")


class DegradedResponseSerializer(serializers.Serializer):
    gallery = serializers.CharField()
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    descriptor = serializers.ChoiceField(choices=list(DESCRIPTOR_MODES))
    checkpoint_id = serializers.CharField(help_text="The descriptor's checkpoint.")
    degradation = serializers.CharField()
    params = serializers.DictField(help_text="Every parameter used, random draws included (motion blur's a and b).")
    seed = serializers.IntegerField()
    enhancer = serializers.DictField(allow_null=True, help_text="kind, arch and checkpoint_id; null when none is trained.")
    timings_ms = serializers.DictField(child=serializers.FloatField())
    rows = RowSerializer(many=True, help_text="original, degraded and (when an enhancer is trained) enhanced.")


class DegradedRequestSerializer(serializers.Serializer):
    """Schema only: ``DegradedQueryForm`` validates."""

    image = serializers.FileField(required=False, help_text="The image (PNG, JPEG, GIF, WebP, BMP, TIFF).")
    image_data = serializers.CharField(required=False, help_text="Or the image as a base64 data: URL.")
    example = serializers.IntegerField(required=False, help_text="Or a gallery image's id.")
    degradation = serializers.ChoiceField(choices=list(DEGRADATIONS), required=False, default=DEFAULT_DEGRADATION)
    params = serializers.JSONField(required=False, help_text='Parameter values, e.g. {"sigma": 0.2}; the paper\'s '
                                                             "defaults where left out (see /api/degraded/degradations/).")
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_SEED)
    descriptor = serializers.ChoiceField(choices=list(DESCRIPTOR_MODES), required=False, default="standard")
    k = serializers.IntegerField(required=False, default=DEFAULT_K, min_value=1, max_value=max_k())
    metric = serializers.ChoiceField(choices=METRIC_CHOICES, required=False, default=DEFAULT_METRIC)
    gallery = serializers.SlugField(required=False, help_text="Gallery slug; the default gallery when omitted.")


class DegradedSearchView(JsonApi, APIView):
    parser_classes = (MultiPartParser, FormParser, JSONParser)

    @extend_schema(
        summary="Search with an image, its degraded version and its enhanced version",
        description="Degrades the image (at the descriptor's input size), enhances the degraded image with the "
                    "trained enhancer, and returns one row of results for each.",
        request={"multipart/form-data": DegradedRequestSerializer, "application/json": DegradedRequestSerializer},
        responses={200: DegradedResponseSerializer, **error_responses(400, 413, 415, 503)},
    )
    def post(self, request):
        data = valid_query(request, DegradedQueryForm, "query")
        outcome = degraded_search(**query_arguments(data))
        query = outcome.query
        enhancer = query.enhancer
        body = {
            "gallery": data["gallery"].slug, "k": outcome.k, "metric": outcome.metric, "descriptor": query.descriptor,
            "checkpoint_id": query.checkpoint_id, "degradation": query.degradation.name, "params": query.params,
            "seed": query.seed, "timings_ms": query.timings_ms,
            "enhancer": enhancer and {"kind": enhancer.kind, "arch": enhancer.arch, "checkpoint_id": enhancer.checkpoint_id},
            "rows": [{"kind": row.kind, "image": png_data_url(row.image), "results": outcome.results.get(row.kind, [])}
                     for row in query.rows],
        }
        return Response(DegradedResponseSerializer(body, context={"request": request}).data)


class DegradationListView(JsonApi, APIView):
    @extend_schema(summary="The degradations, their parameters' ranges and defaults, and their enhancers",
                   responses={200: DegradationSerializer(many=True)})
    def get(self, request):
        rows = [{"name": d.name, "title": d.title, "description": d.description, "params": d.params,
                 "enhancer": getattr(enhancer_for(d.name), "kind", None)} for d in DEGRADATIONS.values()]
        return Response(DegradationSerializer(rows, many=True).data)
