"""Pages: thin views that validate, call one service or selector, and render."""


from django.conf import settings
from django.shortcuts import render
from django.template.loader import render_to_string

from retrieval.core.errors import user_error
from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, ImageSearchForm, current_choice, form_messages
from retrieval.core.presenters import query_preview
from retrieval.core.results import explain_hits
from retrieval.core.streams import QueryStream, result_card
from retrieval.core.streams import errors_fragment as _errors_fragment
from retrieval.engine.errors import EngineError
from retrieval.galleries import selectors
from retrieval.search import services


def search(request):
    """The upload page. GET shows the form (and runs ``?example=<id>``); POST searches."""
    example = selectors.example_image(request.GET.get("example"))
    if request.method == "POST":
        form = ImageSearchForm(request.POST, request.FILES)
    elif example is not None:
        with example.file.open("rb") as f:
            form = ImageSearchForm({"k": request.GET.get("k"), "metric": request.GET.get("metric"),
                                    "gallery": example.gallery.slug}, image_bytes=f.read())
    else:
        return _render_search(request, ImageSearchForm(), status=200)
    if not form.is_valid():
        return _render_search(request, form, status=413 if form.too_large else 400)
    try:
        outcome = services.image_search(gallery=form.cleaned_data["gallery"], data=form.cleaned_data["image_bytes"],
                                        k=form.cleaned_data["k"], metric=form.cleaned_data["metric"])
    except EngineError as error:
        problem = user_error(error)
        form.add_error("image" if problem.status != 503 else None, problem.message)
        return _render_search(request, form, status=problem.status)
    return _render_search(request, form, outcome=outcome, example=example, status=200)


def _render_search(request, form, *, status: int, outcome=None, example=None):
    context = {"form": form, "outcome": outcome, "example": example,
               "metric": outcome.metric if outcome else None,
               "current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
               "error_messages": form_messages(form),
               "preview": query_preview(outcome.query) if outcome else None,
               "examples": selectors.example_queries(),
               "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}
    template = "retrieval/_search_results.html" if request.htmx and request.method == "POST" else "retrieval/search.html"
    return render(request, template, context, status=status)


def start_search_query(message: dict) -> tuple[str, QueryStream | None]:
    """Validate and run the query; return the first fragments and what the cards need."""
    form = ImageSearchForm({key: message.get(key) for key in ("k", "metric", "gallery")} | {
        "image_data": message.get("image") or ""})
    if not form.is_valid():
        return _errors_fragment(form_messages(form)), None
    gallery = form.cleaned_data["gallery"]
    try:
        query = services.image_query(gallery=gallery, data=form.cleaned_data["image_bytes"],
                                     k=form.cleaned_data["k"], metric=form.cleaned_data["metric"])
    except EngineError as error:
        return _errors_fragment([user_error(error).message]), None
    example = selectors.example_image(message.get("example"), gallery)
    html = render_to_string("retrieval/_search_results.html", {
        "form": form, "outcome": None, "streaming": True, "preview": query_preview(query), "example": example,
        "k": form.cleaned_data["k"], "metric": form.cleaned_data["metric"], "oob": True,
    })
    metric = form.cleaned_data["metric"]
    return html, QueryStream(
        items=explain_hits(query.decoded.image, query.hits),
        card=lambda item: result_card(item, example=example),
        done=lambda shown: render_to_string("retrieval/_status.html", {
            "state": "done", "count": shown, "preview": query_preview(query), "metric": metric}))
