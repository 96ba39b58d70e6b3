"""The image query kind: a photo or any image, searched by the gallery's descriptor."""

from retrieval.core.kinds import ApiRoute, QueryKind, register_kind
from retrieval.search import api, evaluation, views

KIND = register_kind(QueryKind(
    name="search", title="Search by image", page_path="", page_name="search", page=views.search,
    start=views.start_search_query, api=(ApiRoute("search/", api.SearchView, "search"),),
    evaluation=evaluation.TASK,
))
