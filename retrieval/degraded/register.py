"""The degraded query kind: an image searched as it is, degraded, and enhanced (Vu)."""

from retrieval.core.kinds import ApiRoute, QueryApi, QueryKind, register_kind
from retrieval.degraded import api, evaluation, views
from retrieval.degraded.forms import DegradedQueryForm
from retrieval.degraded.serializers import DegradedRequestSerializer, DegradedResponseSerializer

KIND = register_kind(QueryKind(
    name="degrade", title="Degraded queries", page_path="degraded/", page_name="degraded", form=DegradedQueryForm,
    search=views.run, stream=views.stream, results=views.results, page_context=views.page_context,
    page_template="retrieval/degraded.html", results_template="retrieval/_degraded_results.html", rows=views.rows,
    row_columns=("row",), link_fields=views.link_fields,
    query_api=QueryApi(
        path="degraded/", name="degraded", summary="Search with an image, its degraded version and its enhanced version",
        description="Degrades the image (at the descriptor's input size), enhances the degraded image with the "
                    "trained enhancer, and returns one row of results for each: `original`, `degraded` and "
                    "(when an enhancer for the degradation is trained) `enhanced`.",
        request=DegradedRequestSerializer, response=DegradedResponseSerializer, body=api.query_body),
    api_routes=(ApiRoute("degraded/degradations/", api.DegradationListView, "degradations"),),
    evaluation=evaluation.TASK,
))
