"""The training centre's JSON API: list and inspect runs; staff start, cancel and activate.

Like every API module, every failure is raised and shaped by ``core.api.exception_handler``: a
configuration the family rejects is a 400 with the same sentences as the page and the
command line, an action the run's state forbids is a 409.
"""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from retrieval.core.api import JsonApi, error_responses
from retrieval.engine.options import config_options
from retrieval.engine.training.registry import TRAINERS, get_trainer
from retrieval.training import selectors
from retrieval.training import services as training_services
from retrieval.training.serializers import (
    TrainerSerializer,
    TrainingRunCreateSerializer,
    TrainingRunDetailSerializer,
    TrainingRunSerializer,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The run's state does not allow this."


class StaffWrites(BasePermission):
    """Anyone may read (public runs only, unless staff); only staff may change anything."""

    message = "Only staff members can start, cancel or activate training runs."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_staff)


def _visible_run(request, pk: int):
    run = selectors.training_run_for(user=request.user, pk=pk)
    if run is None:
        raise NotFound(f"There is no training run with id {pk}.")
    return run


@extend_schema(summary="Model families that can be trained, with their options",
               description="Each trainable model family with its options: type, default, range and help.")
class TrainerListView(JsonApi, APIView):
    @extend_schema(responses={200: TrainerSerializer(many=True)})
    def get(self, request):
        families = [{**vars(get_trainer(name)), "options": config_options(get_trainer(name).config_cls)}
                    for name in TRAINERS.names()]
        return Response(TrainerSerializer(families, many=True).data)


class TrainingRunListView(JsonApi, generics.ListAPIView):
    serializer_class = TrainingRunSerializer
    permission_classes = (StaffWrites,)

    def get_queryset(self):
        return selectors.training_runs(user=self.request.user)

    @extend_schema(summary="Training runs, newest first (public ones unless you are staff)",
                   description="Runs with their status, progress, metrics and checkpoint, 50 a page.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Start a training run (staff); it is queued behind any running one",
                   description="The family and its options; invalid options are refused with a message per option "
                               "before anything starts.",
                   request=TrainingRunCreateSerializer, responses={201: TrainingRunDetailSerializer, **error_responses(400, 403)})
    def post(self, request):
        if not isinstance(request.data, Mapping):
            raise ParseError("Send the run as a JSON object.")
        params = TrainingRunCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        # An InvalidConfig propagates: the handler answers 400 with the family's own sentences.
        run = training_services.training_run_start(
            family=params.validated_data["family"], values=params.validated_data["config"],
            requested_by=request.user, public=params.validated_data["public"], origin="api")
        return Response(TrainingRunDetailSerializer(run, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(summary="One training run, with its loss curve",
               description="A run with its configuration, per-epoch metrics, final evaluation and loss curve.",
               responses={200: TrainingRunDetailSerializer, **error_responses(404)})
class TrainingRunDetailView(JsonApi, APIView):
    def get(self, request, pk: int):
        return Response(TrainingRunDetailSerializer(_visible_run(request, pk), context={"request": request}).data)


class _RunAction(JsonApi, APIView):
    permission_classes = (StaffWrites,)
    run_action = None

    def post(self, request, pk: int):
        run = _visible_run(request, pk)
        try:
            run = type(self).run_action(run=run)
        except training_services.RunConflict as error:
            raise Conflict(str(error)) from None
        return Response(TrainingRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(summary="Cancel a run (staff): a queued one at once, a running one at its next step",
               description="Answers 409 when the run has already ended.",
               request=None, responses={202: TrainingRunSerializer, **error_responses(403, 404, 409)})
class TrainingRunCancelView(_RunAction):
    run_action = training_services.training_run_cancel


@extend_schema(summary="Activate a finished descriptor run (staff): index the gallery with it, then serve it",
               description="Searches keep using the serving model until the new index is built and loaded; 409 "
                           "when the run is not a finished descriptor run.",
               request=None, responses={202: TrainingRunSerializer, **error_responses(403, 404, 409)})
class TrainingRunActivateView(_RunAction):
    run_action = training_services.training_run_activate
