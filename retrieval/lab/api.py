"""The lab's JSON: a query's body for the generic query endpoint (``core.api``), and the
embedding map of a gallery in one descriptor's space (``GET /api/lab/embedding/``)."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi, error_responses
from retrieval.models import Gallery

from .embeddings import embedding_body, lab_embedding
from .queries import gallery_lab_indexes
from .serializers import EmbeddingParamsSerializer, EmbeddingSerializer
from .services import STAMPS_SLUG, lab_index_path
from .views import LabOutcome


class NotIndexed(APIException):
    status_code = 409
    default_code = "not_indexed"


def query_body(outcome: LabOutcome) -> dict:
    """A lab query's outcome as ``LabResponseSerializer`` reads it."""
    head = outcome.head
    return {
        "gallery": head.gallery.slug, "backbone": head.backbone, "k": head.k, "metric": head.metric,
        "query_id": head.example.pk if head.example else None, "extract_ms": head.extract_ms,
        "significance": {"grid": list(head.grid), "significant": head.significant, "cells": [list(c) for c in head.cells],
                         "overlay": head.overlay_url},
        "columns": outcome.columns,
    }


class EmbeddingView(JsonApi, APIView):
    @extend_schema(summary="A gallery mapped to 2-d in one lab descriptor's space",
                   description="The first two principal axes (PCA) of the gallery's index for the descriptor, fitted "
                               "once and stored; one point per gallery image (a seeded sample of at most 5,000), with "
                               "its id and class. A lab query's `columns[].query_xy` places the query on the same map.",
                   parameters=[EmbeddingParamsSerializer],
                   responses={200: EmbeddingSerializer, **error_responses(400, 404, 409)})
    def get(self, request):
        params = EmbeddingParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        slug, descriptor, backbone = (params.validated_data.get("gallery") or STAMPS_SLUG,
                                      params.validated_data["descriptor"], params.validated_data["backbone"])
        gallery = Gallery.objects.filter(slug=slug).first()
        if gallery is None:
            raise NotFound(f"There is no gallery called {slug}.")
        if not lab_index_path(slug, backbone, descriptor).exists():
            raise NotIndexed(f"The gallery {slug} has no {backbone} lab index yet: run a lab query on it first.")
        index = gallery_lab_indexes(gallery, backbone)[descriptor]
        embedding = lab_embedding(gallery=gallery, backbone=backbone, descriptor=descriptor, index=index)
        return Response(EmbeddingSerializer(embedding_body(embedding, gallery)).data)
