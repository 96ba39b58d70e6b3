"""What the degraded-query page shows: an image, its degraded and its enhanced version side by
side, each with its own top-k results (``core.views`` and ``core.streams`` run the query).

Over the websocket (a {"type": "degrade", ...} message) the three query images come first, then
the result cards row by row, then the status, so a lecturer dragging a slider sees each new
setting stream in (a newer message stops the older stream).
"""

from django.conf import settings
from django.template.loader import render_to_string

from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, current_choice
from retrieval.core.presenters import png_data_url
from retrieval.core.streams import QueryStream
from retrieval.degraded.forms import DEFAULT_DEGRADATION, slider_name
from retrieval.degraded.services import (
    DESCRIPTOR_MODES,
    DegradedOutcome,
    DegradedQuery,
    degraded_query,
    degraded_search,
    explained_rows,
    query_arguments,
    robust_ready,
)
from retrieval.engine.degraded.degradations import DEGRADATIONS
from retrieval.galleries import selectors
from retrieval.models import Gallery


def run(cleaned: dict) -> DegradedOutcome:
    return degraded_search(**query_arguments(cleaned))


def results(form, outcome: DegradedOutcome | None, example) -> dict:
    context = {"example": example, "outcome": outcome}
    if outcome is not None:
        context.update(query_context(outcome.query, outcome.metric, outcome.k, results=outcome.results))
    return context


def page_context(form) -> dict:
    gallery = _chosen_gallery(form)
    return {"controls": degradation_controls(form), "examples": selectors.example_queries(),
            "current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
            "current_descriptor": current_choice(form, "descriptor", DESCRIPTOR_MODES, "standard"),
            "descriptors": DESCRIPTOR_MODES, "robust_ready": bool(gallery and robust_ready(gallery.slug)),
            "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}


def link_fields(cleaned: dict) -> dict:
    """The degradation, its parameters as the page's sliders name them, the seed and the descriptor."""
    degradation = cleaned["degradation"]
    params = {slider_name(degradation, name): value for name, value in cleaned["params"].items() if value is not None}
    return {"degradation": degradation, **params, "seed": cleaned["seed"], "descriptor": cleaned["descriptor"]}


def rows(outcome: DegradedOutcome):
    return (((row,), item) for row, items in outcome.results.items() for item in items)


def query_context(query: DegradedQuery, metric: str, k: int, *, results: dict | None = None) -> dict:
    shown = {name: value for name, value in query.params.items() if value is not None}
    rows = [{"kind": row.kind, "title": row.title, "image": png_data_url(row.image),
             "results": (results or {}).get(row.kind, [])} for row in query.rows]
    return {"query": query, "rows": rows, "metric": metric, "k": k, "params_shown": shown,
            "result_count": sum(len(row["results"]) for row in rows),
            "missing_enhancer": query.enhancer is None, "total_ms": round(sum(query.timings_ms.values()), 2)}


def degradation_controls(form) -> list[dict]:
    """Each degradation with a slider per parameter, set to the submitted value or the default."""
    data = form.data if form.is_bound else {}
    current = data.get("degradation") if data.get("degradation") in DEGRADATIONS else DEFAULT_DEGRADATION
    return [{"name": d.name, "title": d.title, "description": d.description, "current": d.name == current,
             "sliders": [{"spec": p, "name": slider_name(d.name, p.name),
                          "value": _slider_value(data.get(slider_name(d.name, p.name)), p)}
                         for p in d.params if p.default is not None]}
            for d in DEGRADATIONS.values()]


def _slider_value(raw, spec):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return spec.default
    return value if spec.min <= value <= spec.max else spec.default


def _chosen_gallery(form) -> Gallery | None:
    slug = (form.data.get("gallery") if form.is_bound else None) or settings.RETRIEVAL["DEFAULT_GALLERY"]
    return Gallery.objects.filter(slug=slug).first()


# --- the websocket ---------------------------------------------------------------------------

def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    """Degrade, enhance and search now; the first fragment has the three query images with empty
    result rows, the stream fills the rows."""
    query = degraded_query(**query_arguments(cleaned))
    context = {"example": example, "outcome": None} | query_context(query, cleaned["metric"], cleaned["k"])
    return context | {"streaming": True}, QueryStream(
        items=explained_rows(query),
        card=lambda pair: render_to_string("retrieval/_degraded_card.html", {
            "row": pair[0], "item": pair[1], "example": example}),
        done=lambda shown: render_to_string("retrieval/_degraded_status.html", context | {
            "state": "done", "count": shown, "oob": True}))
