"""The sketch search's JSON API: search a gallery with a drawing, and list the modes.

Like ``api.py``, every failure is raised and shaped by ``api_errors.exception_handler``:
a blank canvas is a 400 ``blank_sketch``, a malformed data URL a 400, an upload over the
size limit or a drawing over the pixel limit a 413, a mode whose model is not trained a 503.
"""


from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi, error_responses, valid_data, valid_query
from retrieval.core.forms import SearchParamsForm
from retrieval.sketch.forms import SketchSearchForm
from retrieval.sketch.serializers import (
    SketchModesResponseSerializer,
    SketchSearchRequestSerializer,
    SketchSearchResponseSerializer,
)
from retrieval.sketch.services import default_sketch_mode, sketch_modes, sketch_search


class SketchSearchView(JsonApi, APIView):
    parser_classes = (MultiPartParser, FormParser, JSONParser)

    @extend_schema(
        summary="Search a gallery by sketch",
        description="Send the drawing as a file (`image`, e.g. a PNG) or a base64 data URL (`image_data`), and "
                    "how to read it (`mode`, see /api/sketch/modes/). The response has the results, closest first, "
                    "the GAN's image of the sketch and the sketch as the models saw it (PNG data URLs).",
        request={"multipart/form-data": SketchSearchRequestSerializer, "application/json": SketchSearchRequestSerializer},
        responses={200: SketchSearchResponseSerializer, **error_responses(400, 413, 415, 503)},
    )
    def post(self, request):
        data = valid_query(request, SketchSearchForm, "sketch")
        outcome = sketch_search(gallery=data["gallery"], data=data["image_bytes"], mode=data["mode"],
                                k=data["k"], metric=data["metric"])
        return Response(SketchSearchResponseSerializer(outcome, context={"request": request}).data)


class SketchModesView(JsonApi, APIView):
    @extend_schema(
        summary="The ways a sketch can be read, and which can run now",
        parameters=[OpenApiParameter("gallery", str, description="Gallery slug; the default gallery when omitted.")],
        responses={200: SketchModesResponseSerializer, **error_responses(400)},
    )
    def get(self, request):
        gallery = valid_data(SearchParamsForm({"gallery": request.query_params.get("gallery")}))["gallery"]
        body = {"gallery": gallery.slug, "default": default_sketch_mode(), "modes": sketch_modes(gallery.slug)}
        return Response(SketchModesResponseSerializer(body).data)
