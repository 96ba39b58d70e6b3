"""The descriptor lab's query kind: the `/lab/` page, its websocket start, `/api/lab/` (JSON or
CSV), the embedding map `/api/lab/embedding/`, `evaluate lab`."""

from retrieval.core.kinds import ApiRoute, QueryApi, QueryKind, register_kind
from retrieval.lab import api, evaluation, views
from retrieval.lab.forms import LabQueryForm
from retrieval.lab.serializers import LabRequestSerializer, LabResponseSerializer

KIND = register_kind(QueryKind(
    name="lab", title="Descriptor lab", page_path="lab/", page_name="lab", form=LabQueryForm,
    search=views.run, stream=views.stream, results=views.results, page_context=views.page_context,
    page_template="retrieval/lab/page.html", results_template="retrieval/lab/_results.html", rows=views.rows,
    row_columns=("descriptor",), evaluation=evaluation.TASK,
    query_api=QueryApi(
        path="lab/", name="lab", summary="Compare every lab descriptor on one query",
        description="Describes the query once with an ImageNet backbone (EfficientNet-Lite0) and searches the gallery "
                    "with every lab descriptor: `gap` (the plain code), `conv` (Staszewski et al.'s significant "
                    "activations), `fc`, `fc_conv` and the colour histogram `hist`. One column per descriptor with its "
                    "top k, closest first; the query's significance map (the cells whose activations `conv` averaged). "
                    "`?format=csv` gives one row per result with its descriptor first.",
        request=LabRequestSerializer, response=LabResponseSerializer, body=api.query_body),
    api_routes=(ApiRoute("lab/embedding/", api.EmbeddingView, "lab-embedding"),),
))
