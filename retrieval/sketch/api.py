"""The sketch modes endpoint (the sketch query endpoint is the generic one, ``core.api``)."""


from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi, error_responses, valid_data
from retrieval.core.forms import SearchParamsForm
from retrieval.sketch.serializers import SketchModesResponseSerializer
from retrieval.sketch.services import default_sketch_mode, sketch_modes


class SketchModesView(JsonApi, APIView):
    @extend_schema(
        summary="The ways a sketch can be read, and which can run now",
        description="Each sketch mode with whether it can run now on the gallery, and why not when it cannot "
                    "(e.g. its model is not trained).",
        parameters=[OpenApiParameter("gallery", str, description="Gallery slug; the default gallery when omitted.")],
        responses={200: SketchModesResponseSerializer, **error_responses(400)},
    )
    def get(self, request):
        gallery = valid_data(SearchParamsForm({"gallery": request.query_params.get("gallery")}))["gallery"]
        body = {"gallery": gallery.slug, "default": default_sketch_mode(), "modes": sketch_modes(gallery.slug)}
        return Response(SketchModesResponseSerializer(body).data)
