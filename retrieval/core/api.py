"""The API's one error shape, ``{"error": code, "detail": sentence, "fields"?: {...}}``, and
the mapping of every expected failure to it, so API views never build error responses.

Engine errors get their status and code from ``errors.user_error`` (shared with the
pages); form and serializer errors become 400 ``invalid_request`` (413 when the upload is
too big, matching ``portal.middleware``); DRF's own exceptions keep their status.
Anything else is a bug and is left to propagate.
"""

from collections.abc import Mapping

from django import forms
from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, serializers
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from retrieval.core import query_store
from retrieval.core.errors import user_error
from retrieval.core.export import attachment, csv_filename, csv_text
from retrieval.core.links import linked_example, own_image, query_state
from retrieval.core.parsers import SafeJSONParser
from retrieval.core.serializers import ErrorSerializer
from retrieval.engine.errors import EngineError, InvalidConfig


class InvalidInput(Exception):
    """A Django form rejected the request; the handler reports its fields."""

    def __init__(self, form: forms.Form):
        super().__init__("invalid input")
        self.form = form


def error_body(code: str, detail: str, fields: dict[str, list[str]] | None = None) -> dict:
    body = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc, context):
    if isinstance(exc, InvalidInput):
        return _invalid(_form_messages(exc.form), too_large=getattr(exc.form, "too_large", False))
    if isinstance(exc, InvalidConfig):  # a training configuration: every problem, per option where known
        detail = " ".join(_sentence(message) for message in exc.messages)
        return Response(error_body("invalid_request", detail, exc.fields), status=400)
    if isinstance(exc, EngineError):
        problem = user_error(exc)
        return Response(error_body(problem.code, problem.message), status=problem.status)
    if isinstance(exc, RequestDataTooBig):  # a body without Content-Length slipped past the middleware
        limit_mb = settings.PORTAL_MAX_UPLOAD_BYTES / 1e6
        return Response(error_body("upload_too_large", f"The upload is over the limit of {limit_mb:.0f} MB."), status=413)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response(error_body("invalid_request", str(exc)), status=400)
    if isinstance(exc, exceptions.ValidationError):
        return _invalid(_serializer_messages(exc.detail))
    response = drf_exception_handler(exc, context)  # also turns Http404 and PermissionDenied into DRF errors
    if response is not None:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(code, _sentence(str(detail) or response.status_text))
    return response


def _invalid(fields: dict[str, list[str]], too_large: bool = False) -> Response:
    if too_large:
        return Response(error_body("upload_too_large", fields["image"][0]), status=413)
    detail = " ".join(_sentence(msg if name == "__all__" else f"{name}: {msg}")
                      for name, messages in fields.items() for msg in messages[:1])
    return Response(error_body("invalid_request", detail or "The request is invalid.", fields), status=400)


def _form_messages(form: forms.Form) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


def _serializer_messages(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {name: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
                for name, messages in detail.items()}
    return {"__all__": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's shape rather than with an HTML page."""
    detail = f"There is no API endpoint at {request.path}."
    if not request.path.endswith("/"):
        try:
            if resolve(request.path + "/").func is not not_found:
                detail += f" Did you mean {request.path}/ ?"
        except Resolver404:
            pass
    return JsonResponse(error_body("not_found", detail), status=404)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorSerializer) for status in statuses}


def valid_data(form):
    """The form's cleaned data, or raise so the handler answers 400/413."""
    if not form.is_valid():
        raise InvalidInput(form)
    return form.cleaned_data


class JsonApi:
    # JSON only, errors included: the browsable API would answer browsers in HTML, and Swagger
    # UI at /api/docs/ already lets people try the endpoints. (A comment, not a docstring: the
    # schema would show a view's inherited docstring to API users as its description.)

    renderer_classes = (JSONRenderer,)


class NamedLookup(JsonApi):
    # A 404 that says what was looked for, rather than DRF's "No X matches the given query".

    missing = "Not found."

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(self.missing.format(**self.kwargs)) from None


# --- the query endpoint every query kind gets ---------------------------------------------

@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """An uploaded file, described as binary so that generated clients send the file's bytes."""


class CsvRenderer(BaseRenderer):
    """``?format=csv`` (or ``Accept: text/csv``): the view hands over the CSV text (``core.export``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else JSONRenderer().render(data)


class QueryApiView(JsonApi, APIView):
    """POST a query of ``kind`` (a form or a JSON object); JSON or CSV results. A query sent as
    bytes is stored: the ``Link`` header names the page that reproduces it."""

    kind = None  # a core.kinds.QueryKind
    parser_classes = (MultiPartParser, FormParser, SafeJSONParser)  # nesting bounded: never a RecursionError
    renderer_classes = (JSONRenderer, CsvRenderer)

    def post(self, request):
        kind = self.kind
        if not isinstance(request.data, Mapping):  # e.g. a JSON list
            raise ParseError(f"Send the {kind.query_api.noun} as a form or a JSON object.")
        form = kind.form(request.data, request.FILES)
        data = valid_data(form)
        outcome = kind.search(data)
        stored = query_store.query_store(data["image_bytes"]) if own_image(form) else None
        example = linked_example(request.data.get("example"), data["gallery"])
        headers = {}
        if stored or example:  # the page that reproduces this query
            link = query_state(kind, data, stored=stored, example=example)["link"]
            headers["Link"] = f'<{request.build_absolute_uri(link)}>; rel="alternate"; type="text/html"'
        if request.accepted_renderer.format == "csv":
            headers["Content-Disposition"] = attachment(csv_filename(kind, data))
            return Response(csv_text(kind, outcome, request), headers=headers)
        body = kind.query_api.body(outcome) if kind.query_api.body else outcome
        return Response(kind.query_api.response(body, context={"request": request}).data, headers=headers)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON whatever was asked for: a CSV of an error body would hide it.
        if response.status_code >= 400 and getattr(request, "accepted_renderer", None) is not None:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


FORMAT_PARAMETER = OpenApiParameter("format", str, enum=["json", "csv"], required=False,
                                    description="`csv`: the ranked results as text/csv (columns rank, id, label, "
                                                "class_name, distance, histogram_distance, image_url).")


def query_api_view(kind) -> type:
    """The query endpoint of ``kind``: a ``QueryApiView`` described by ``kind.query_api``."""
    spec = kind.query_api
    errors = {(status, "application/json"): OpenApiResponse(ErrorSerializer) for status in (400, 413, 415, 503)}
    def post(self, request):  # one function per kind: the schema decorator marks the function
        return QueryApiView.post(self, request)

    post = extend_schema(
        summary=spec.summary, description=spec.description, parameters=[FORMAT_PARAMETER],
        request={"multipart/form-data": spec.request, "application/json": spec.request},
        responses={(200, "application/json"): spec.response,
                   (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The results as CSV."), **errors},
    )(post)
    return type(f"{kind.name.title()}QueryView", (QueryApiView,), {"kind": kind, "post": post,
                                                                   "__doc__": spec.description})


class SchemaView(SpectacularAPIView):
    @extend_schema(summary="This OpenAPI schema",
                   description="The API's OpenAPI 3 description, as YAML, or as JSON with `?format=json`; "
                               "Swagger UI at `/api/docs/` reads it.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
