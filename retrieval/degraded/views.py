"""The degraded-query page: an image, its degraded and its enhanced version side by side,
each with its own top-k results.

``degraded`` renders the results in one piece (a plain form post, an htmx post, or
``?example=<id>``); ``start_degraded_query`` answers a {"type": "degrade", ...} message on
the search websocket (``consumers.QUERY_KINDS``): the three query images first, then the
result cards row by row, then the status, so a lecturer dragging a slider sees each new
setting stream in (a newer message stops the older stream).
"""

from django.conf import settings
from django.shortcuts import render
from django.template.loader import render_to_string

from retrieval.core.errors import user_error
from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, current_choice, form_messages
from retrieval.core.presenters import png_data_url
from retrieval.core.streams import QueryStream, errors_fragment
from retrieval.degraded.forms import DEFAULT_DEGRADATION, DegradedQueryForm, slider_name
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
from retrieval.engine.errors import EngineError, InvalidImage
from retrieval.galleries import selectors
from retrieval.models import Gallery


def degraded(request):
    """GET shows the form (and runs ``?example=<id>``); POST degrades and searches."""
    if request.method == "POST":
        form = DegradedQueryForm(request.POST, request.FILES)
    elif str(request.GET.get("example", "")).isdigit():
        form = DegradedQueryForm(request.GET.dict())
    else:
        return _render(request, DegradedQueryForm(), status=200)
    if not form.is_valid():
        return _render(request, form, status=413 if form.too_large else 400)
    try:
        outcome = degraded_search(**query_arguments(form.cleaned_data))
    except EngineError as error:
        problem = user_error(error)
        form.add_error("image" if isinstance(error, InvalidImage) else None, problem.message)
        return _render(request, form, status=problem.status)
    return _render(request, form, outcome=outcome, status=200)


def _render(request, form, *, status: int, outcome: DegradedOutcome | None = None):
    context = results_context(form, outcome)
    if request.htmx and request.method == "POST":
        return render(request, "retrieval/_degraded_results.html", context, status=status)
    gallery = _chosen_gallery(form)
    context |= {"form": form, "controls": degradation_controls(form), "examples": selectors.example_queries(),
                "current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
                "current_descriptor": current_choice(form, "descriptor", DESCRIPTOR_MODES, "standard"),
                "descriptors": DESCRIPTOR_MODES, "robust_ready": bool(gallery and robust_ready(gallery.slug)),
                "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}
    return render(request, "retrieval/degraded.html", context, status=status)


def results_context(form, outcome: DegradedOutcome | None, *, oob: bool = False) -> dict:
    example = form.cleaned_data.get("example") if form.is_bound and hasattr(form, "cleaned_data") else None
    context = {"error_messages": form_messages(form) if form.is_bound else [],
               "example": example, "oob": oob, "outcome": outcome}
    if outcome is not None:
        context.update(query_context(outcome.query, outcome.metric, outcome.k, results=outcome.results))
    return context


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

def start_degraded_query(message: dict) -> tuple[str, QueryStream | None]:
    """Validate and run a {"type": "degrade", ...} message; the first fragments are the three
    query images with empty result rows, the stream fills the rows."""
    keys = ("k", "metric", "gallery", "degradation", "params", "seed", "descriptor", "example")
    form = DegradedQueryForm({key: message.get(key) for key in keys if message.get(key) is not None}
                             | {"image_data": message.get("image") or ""})
    if not form.is_valid():
        return errors_fragment(form_messages(form)), None
    data = form.cleaned_data
    try:
        query = degraded_query(**query_arguments(data))
    except EngineError as error:
        return errors_fragment([user_error(error).message]), None
    context = results_context(form, None, oob=True) | query_context(query, data["metric"], data["k"])
    html = render_to_string("retrieval/_degraded_results.html", context | {"streaming": True})
    example = data.get("example")
    return html, QueryStream(
        items=explained_rows(query),
        card=lambda pair: render_to_string("retrieval/_degraded_card.html", {
            "row": pair[0], "item": pair[1], "example": example}),
        done=lambda shown: render_to_string("retrieval/_degraded_status.html", context | {
            "state": "done", "count": shown, "oob": True}))

