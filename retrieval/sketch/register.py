"""The sketch query kind: a drawing, read by one of the sketch modes (Jo et al. 2018)."""

from retrieval.core.kinds import ApiRoute, QueryApi, QueryKind, register_kind
from retrieval.sketch import api, evaluation, services, views
from retrieval.sketch.forms import SketchSearchForm
from retrieval.sketch.serializers import SketchSearchRequestSerializer, SketchSearchResponseSerializer

KIND = register_kind(QueryKind(
    name="sketch", title="Search by sketch", page_path="sketch/", page_name="sketch", form=SketchSearchForm,
    search=views.run, stream=views.stream, results=views.results, page_context=views.page_context,
    page_template="retrieval/sketch.html", results_template="retrieval/_sketch_results.html", rows=views.rows,
    link_fields=("mode",),
    query_api=QueryApi(
        path="sketch/search/", name="sketch-search", noun="sketch", summary="Search a gallery by sketch",
        description="Send the drawing as a file (`image`, e.g. a PNG) or a base64 data URL (`image_data`), and how "
                    "to read it (`mode`, see `/api/sketch/modes/`). The response has the results, closest first, "
                    "the GAN's image of the sketch and the sketch as the models saw it (PNG data URLs).",
        request=SketchSearchRequestSerializer, response=SketchSearchResponseSerializer),
    api_routes=(ApiRoute("sketch/modes/", api.SketchModesView, "sketch-modes"),),
    evaluation=evaluation.TASK, warm=services.warm_sketch_models,
))
