"""The degraded-query JSON API: one image searched as it is, degraded and enhanced; and the
list of degradations with their parameters' ranges.

Like ``api.py``, every failure is raised and shaped by ``api_errors.exception_handler``: a
parameter out of range or an unknown degradation is a 400 whose detail names the valid
range or the known degradations; a robust descriptor that is not trained or indexed a 503.
"""


from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi, error_responses, valid_query
from retrieval.core.presenters import png_data_url
from retrieval.degraded.forms import DegradedQueryForm
from retrieval.degraded.serializers import DegradationSerializer, DegradedRequestSerializer, DegradedResponseSerializer
from retrieval.degraded.services import degraded_search, enhancer_for, query_arguments
from retrieval.engine.degraded.degradations import DEGRADATIONS


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
