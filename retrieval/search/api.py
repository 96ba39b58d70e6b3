"""The JSON API: thin views that validate, call one service or selector, and serialize.

Every failure is raised, not returned: ``api_errors.exception_handler`` turns it into the
API's error shape and status, so no view here builds an error response.
"""


from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi, error_responses, valid_query
from retrieval.core.forms import ImageSearchForm
from retrieval.search import services
from retrieval.search.serializers import SearchRequestSerializer, SearchResponseSerializer


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










