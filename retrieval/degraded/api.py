"""The list of degradations with their parameters' ranges (the degraded query endpoint is the
generic one, ``core.api``), and the query's JSON body."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi
from retrieval.core.presenters import png_data_url
from retrieval.degraded.serializers import DegradationSerializer
from retrieval.degraded.services import DegradedOutcome, enhancer_for
from retrieval.engine.degraded.degradations import DEGRADATIONS


class DegradationListView(JsonApi, APIView):
    @extend_schema(summary="The degradations, their parameters' ranges and defaults, and their enhancers",
                   description="Every degradation a degraded query can apply: its parameters (range, step, the "
                               "paper's default) and the trained enhancer that undoes it, if any.",
                   responses={200: DegradationSerializer(many=True)})
    def get(self, request):
        rows = [{"name": d.name, "title": d.title, "description": d.description, "params": d.params,
                 "enhancer": getattr(enhancer_for(d.name), "kind", None)} for d in DEGRADATIONS.values()]
        return Response(DegradationSerializer(rows, many=True).data)


def query_body(outcome: DegradedOutcome) -> dict:
    """A degraded query's outcome as ``DegradedResponseSerializer`` reads it."""
    query = outcome.query
    enhancer = query.enhancer
    return {
        "gallery": outcome.gallery.slug, "k": outcome.k, "metric": outcome.metric, "descriptor": query.descriptor,
        "checkpoint_id": query.checkpoint_id, "degradation": query.degradation.name, "params": query.params,
        "seed": query.seed, "timings_ms": query.timings_ms,
        "enhancer": enhancer and {"kind": enhancer.kind, "arch": enhancer.arch, "checkpoint_id": enhancer.checkpoint_id},
        "rows": [{"kind": row.kind, "image": png_data_url(row.image), "results": outcome.results.get(row.kind, [])}
                 for row in query.rows],
    }
