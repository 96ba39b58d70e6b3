"""The sketch page: draw (or upload) a sketch and see the gallery items it finds.

The page (``sketch``) renders results in one piece for a plain form post or an htmx post;
``start_sketch_query`` answers a {"type": "sketch", ...} message on the search websocket
(``consumers.QUERY_KINDS``) with the same partials, the result cards streamed one by one.
"""

from django.conf import settings
from django.shortcuts import render
from django.template.loader import render_to_string

from retrieval.core.errors import user_error
from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, current_choice, form_messages
from retrieval.core.results import explain_hits
from retrieval.core.streams import QueryStream, errors_fragment, result_card
from retrieval.engine.errors import BlankSketch, EngineError
from retrieval.galleries import selectors
from retrieval.models import Gallery
from retrieval.sketch.forms import SketchSearchForm
from retrieval.sketch.presenters import sketch_preview
from retrieval.sketch.services import SketchOutcome, default_sketch_mode, sketch_modes, sketch_query, sketch_search


def sketch(request):
    """GET shows the canvas; POST (a PNG upload or the canvas as a data URL) searches."""
    if request.method != "POST":
        return _render(request, SketchSearchForm(), status=200)
    form = SketchSearchForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form, status=413 if form.too_large else 400)
    data = form.cleaned_data
    try:
        outcome = sketch_search(gallery=data["gallery"], data=data["image_bytes"], mode=data["mode"],
                                k=data["k"], metric=data["metric"])
    except EngineError as error:
        problem = user_error(error)
        form.add_error("image" if problem.status != 503 else None, problem.message)
        return _render(request, form, status=problem.status)
    return _render(request, form, outcome=outcome, example=selectors.example_image(request.POST.get("example"), data["gallery"]),
                   status=200)


def _render(request, form, *, status: int, outcome: SketchOutcome | None = None, example=None):
    context = {"form": form, "outcome": outcome, "preview": sketch_preview(outcome.query) if outcome else None,
               "example": example, "metric": outcome.metric if outcome else None,
               "error_messages": form_messages(form)}
    if request.htmx and request.method == "POST":
        return render(request, "retrieval/_sketch_results.html", context, status=status)
    gallery = _chosen_gallery(form)
    modes = sketch_modes(gallery.slug if gallery else None)
    context |= {"modes": modes, "current_mode": _current_mode(form, modes), "default_mode": default_sketch_mode(),
                "current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
                "tracing": selectors.example_queries(),
                "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}
    return render(request, "retrieval/sketch.html", context, status=status)


def _chosen_gallery(form) -> Gallery | None:
    if form.is_bound and form.is_valid():
        return form.cleaned_data["gallery"]
    return Gallery.objects.filter(slug=settings.RETRIEVAL["DEFAULT_GALLERY"]).first()


def _current_mode(form, modes: list[dict]) -> str:
    """The mode the page shows as chosen: the submitted one, else the default, else the first
    that can run now (a mode whose model is not trained cannot be chosen)."""
    available = [mode["name"] for mode in modes if mode["available"]]
    chosen = current_choice(form, "mode", {mode["name"] for mode in modes}, default_sketch_mode())
    if chosen in available or not available:
        return chosen
    return default_sketch_mode() if default_sketch_mode() in available else available[0]


# --- the websocket ---------------------------------------------------------------------

def start_sketch_query(message: dict) -> tuple[str, QueryStream | None]:
    """A {"type": "sketch", "image": data URL, "mode", "k", "metric", "gallery", "example"}
    message: validate and search; the results header now, then the cards one by one."""
    fields = {key: message.get(key) for key in ("k", "metric", "gallery", "mode")}
    form = SketchSearchForm(fields | {"image_data": message.get("image") or ""})
    if not form.is_valid():
        return errors_fragment(form_messages(form)), None
    data = form.cleaned_data
    try:
        query = sketch_query(gallery=data["gallery"], data=data["image_bytes"], mode=data["mode"],
                             k=data["k"], metric=data["metric"])
    except BlankSketch as error:  # nothing drawn (any more): results of an earlier drawing would mislead
        empty = render_to_string("retrieval/_sketch_results.html", {"preview": None, "oob": True,
                                                                     "error_messages": [user_error(error).message]})
        return empty, None
    except EngineError as error:
        return errors_fragment([user_error(error).message]), None
    example = selectors.example_image(message.get("example"), data["gallery"])
    preview = sketch_preview(query)
    html = render_to_string("retrieval/_sketch_results.html", {
        "outcome": None, "preview": preview, "example": example, "k": data["k"], "metric": data["metric"],
        "error_messages": [], "oob": True})
    return html, QueryStream(
        items=explain_hits(query.explained_image, query.hits),
        card=lambda item: result_card(item, example=example),
        done=lambda shown: render_to_string("retrieval/_sketch_status.html", {
            "state": "done", "count": shown, "preview": preview, "metric": data["metric"], "oob": True}))
