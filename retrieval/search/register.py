"""The image query kind: a photo or any image, searched by the gallery's descriptor."""

from retrieval.core.forms import ImageSearchForm
from retrieval.core.kinds import QueryApi, QueryKind, register_kind
from retrieval.search import evaluation, views
from retrieval.search.serializers import SearchRequestSerializer, SearchResponseSerializer

KIND = register_kind(QueryKind(
    name="search", title="Search by image", page_path="", page_name="search", form=ImageSearchForm,
    search=views.run, stream=views.stream, results=views.results, page_context=views.page_context,
    page_template="retrieval/search.html", results_template="retrieval/_search_results.html", rows=views.rows,
    query_api=QueryApi(
        path="search/", name="search", noun="search", summary="Search a gallery by image",
        description="Send the query as a file (`image`) or a base64 data URL (`image_data`). Results are sorted by "
                    "distance, closest first.",
        request=SearchRequestSerializer, response=SearchResponseSerializer),
    evaluation=evaluation.TASK,
))
