"""The texture query kind (TSN-guided deep hashing): the `/texture/` page, its websocket start,
its query API and CSV, and `manage.py evaluate texture` (Table 1 of the paper)."""

from retrieval.core.kinds import QueryApi, QueryKind, register_kind
from retrieval.texture import evaluation, views
from retrieval.texture.forms import TextureQueryForm
from retrieval.texture.serializers import TextureRequestSerializer, TextureResponseSerializer

KIND = register_kind(QueryKind(
    name="texture", title="Search by texture", page_path="texture/", page_name="texture",
    form=TextureQueryForm, search=views.run, stream=views.stream, results=views.results,
    page_context=views.page_context, page_template="retrieval/texture/page.html",
    results_template="retrieval/texture/_results.html", rows=views.rows, row_columns=("bits",),
    link_fields=views.link_fields, warm=views.warm,
    query_api=QueryApi(
        path="texture/search/", name="texture-search", noun="texture",
        summary="Search the texture gallery by a texture patch",
        description="Send an image (`image` or `image_data`) or name a gallery texture (`example`), optionally a "
                    "`box` (left,top,width,height in the image's pixels) to search by the texture inside it, and the "
                    "code length `bits` (32, 64, 128 or 256). The patch is coded by the TSN + DSDH hashing network "
                    "and the gallery is ranked by Hamming distance; each result carries its code and histogram "
                    "explanation. A gallery texture's query also returns its precision-recall curve.",
        request=TextureRequestSerializer, response=TextureResponseSerializer),
    evaluation=evaluation.TASK,
))
