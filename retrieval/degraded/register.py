"""The degraded query kind: an image searched as it is, degraded, and enhanced (Vu)."""

from retrieval.core.kinds import ApiRoute, QueryKind, register_kind
from retrieval.degraded import api, evaluation, views

KIND = register_kind(QueryKind(
    name="degrade", title="Degraded queries", page_path="degraded/", page_name="degraded", page=views.degraded,
    start=views.start_degraded_query,
    api=(ApiRoute("degraded/", api.DegradedSearchView, "degraded"),
         ApiRoute("degraded/degradations/", api.DegradationListView, "degradations")),
    evaluation=evaluation.TASK,
))
