"""The image query kind: a photo or any image, searched by the gallery's descriptor (standard
or photo)."""

from retrieval.core.kinds import QueryApi, QueryKind, register_kind
from retrieval.search import evaluation, views
from retrieval.search.forms import ImageQueryForm
from retrieval.search.serializers import SearchRequestSerializer, SearchResponseSerializer

KIND = register_kind(QueryKind(
    name="search", title="Search by image", page_path="", page_name="search", form=ImageQueryForm,
    search=views.run, stream=views.stream, results=views.results, page_context=views.page_context,
    page_template="retrieval/search.html", results_template="retrieval/_search_results.html", rows=views.rows,
    link_fields=("descriptor",), warm=views.warm,
    query_api=QueryApi(
        path="search/", name="search", noun="search", summary="Search a gallery by image",
        description="Send the query as a file (`image`) or a base64 data URL (`image_data`). Results are sorted by "
                    "distance, closest first. `descriptor` chooses the standard or the photo descriptor (default: "
                    "the gallery's default); `unsure` flags a query unlike anything in the gallery.",
        request=SearchRequestSerializer, response=SearchResponseSerializer),
    evaluation=evaluation.TASK,
))
