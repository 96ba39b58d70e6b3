"""What the sketch page shows: the canvas's controls (the modes, which can run), the results
fragment (what the portal made of the sketch, the results), and the websocket query's first
fragment and card stream (``core.views`` and ``core.streams`` run them)."""

from django.conf import settings
from django.template.loader import render_to_string

from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, current_choice
from retrieval.core.results import explain_hits
from retrieval.core.streams import QueryStream, result_card
from retrieval.galleries import selectors
from retrieval.models import Gallery
from retrieval.sketch.presenters import sketch_preview
from retrieval.sketch.services import SketchOutcome, default_sketch_mode, sketch_modes, sketch_query, sketch_search


def run(cleaned: dict) -> SketchOutcome:
    return sketch_search(gallery=cleaned["gallery"], data=cleaned["image_bytes"], mode=cleaned["mode"],
                         k=cleaned["k"], metric=cleaned["metric"])


def results(form, outcome: SketchOutcome | None, example) -> dict:
    return {"outcome": outcome, "preview": sketch_preview(outcome.query) if outcome else None, "example": example,
            "metric": outcome.metric if outcome else None}


def page_context(form) -> dict:
    gallery = _chosen_gallery(form)
    modes = sketch_modes(gallery.slug if gallery else None)
    return {"modes": modes, "current_mode": _current_mode(form, modes), "default_mode": default_sketch_mode(),
            "current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
            "tracing": selectors.example_queries(),
            "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}


def _chosen_gallery(form) -> Gallery | None:
    if form.is_bound and form.is_valid():
        return form.cleaned_data["gallery"]
    return Gallery.default()


def _current_mode(form, modes: list[dict]) -> str:
    """The mode the page shows as chosen: the submitted one, else the default, else the first
    that can run now (a mode whose model is not trained cannot be chosen)."""
    available = [mode["name"] for mode in modes if mode["available"]]
    chosen = current_choice(form, "mode", {mode["name"] for mode in modes}, default_sketch_mode())
    if chosen in available or not available:
        return chosen
    return default_sketch_mode() if default_sketch_mode() in available else available[0]


def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    """Read and search the drawing now (a blank one raises BlankSketch: the results are cleared);
    the header first, then each card as its explanation is ready."""
    query = sketch_query(gallery=cleaned["gallery"], data=cleaned["image_bytes"], mode=cleaned["mode"],
                         k=cleaned["k"], metric=cleaned["metric"])
    preview, metric = sketch_preview(query), cleaned["metric"]
    context = {"outcome": None, "preview": preview, "example": example, "k": cleaned["k"], "metric": metric}
    return context, QueryStream(
        items=explain_hits(query.explained_image, query.hits, cleaned["gallery"]),
        card=lambda item: result_card(item, example=example),
        done=lambda shown: render_to_string("retrieval/_sketch_status.html", {
            "state": "done", "count": shown, "preview": preview, "metric": metric, "oob": True}))


def rows(outcome: SketchOutcome):
    return (((), item) for item in outcome.results)
