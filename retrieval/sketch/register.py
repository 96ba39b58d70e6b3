"""The sketch query kind: a drawing, read by one of the sketch modes (Jo et al. 2018)."""

from retrieval.core.kinds import ApiRoute, QueryKind, register_kind
from retrieval.sketch import api, evaluation, services, views

KIND = register_kind(QueryKind(
    name="sketch", title="Search by sketch", page_path="sketch/", page_name="sketch", page=views.sketch,
    start=views.start_sketch_query,
    api=(ApiRoute("sketch/search/", api.SketchSearchView, "sketch-search"),
         ApiRoute("sketch/modes/", api.SketchModesView, "sketch-modes")),
    evaluation=evaluation.TASK, warm=services.warm_sketch_models,
))
