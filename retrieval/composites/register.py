"""The composites query kind (Kundu & Dutta: find the images a composite was made from): the
`/composites/` page, its websocket start, its query API and CSV, and `evaluate composites`."""

from retrieval.composites import evaluation, services, views
from retrieval.composites.forms import CompositeQueryForm
from retrieval.composites.serializers import CompositeRequestSerializer, CompositeResponseSerializer
from retrieval.core.kinds import QueryApi, QueryKind, register_kind

KIND = register_kind(QueryKind(
    name="composites", title="Composite sources", page_path="composites/", page_name="composites",
    form=CompositeQueryForm, search=views.run, stream=views.stream, results=views.results,
    page_context=views.page_context, page_template="retrieval/composites/page.html",
    results_template="retrieval/composites/_results.html", rows=views.rows, row_columns=("method",),
    link_fields=views.link_fields, warm=services.warm_in_background,
    query_api=QueryApi(
        path="composites/search/", name="composites-search", noun="composite",
        summary="Find the sources of a composite",
        description="Build a composite of 2 or 3 gallery images on the server (`sources` = their ids, `combine` = "
                    "`blend` with `alphas`, `collage` with `layout`, or `paste` with `texture`, `scale` and `seed`) or "
                    "send one (`combine=upload` with `image` or `image_data`). The response has the sources the "
                    "portal's region-wise search found, each with the region it explains and its distance, the "
                    "GAN's reconstruction, every other method's top k, and the true sources when the server built it.",
        request=CompositeRequestSerializer, response=CompositeResponseSerializer),
    evaluation=evaluation.TASK,
))
