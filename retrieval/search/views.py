"""What the image search page shows: the page's controls, the results fragment, and the
websocket query's first fragment and card stream (``core.views`` and ``core.streams`` run them)."""

from django.conf import settings
from django.template.loader import render_to_string

from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, current_choice
from retrieval.core.presenters import query_preview
from retrieval.core.results import explain_hits
from retrieval.core.streams import QueryStream, result_card
from retrieval.galleries import selectors
from retrieval.search import services


def run(cleaned: dict) -> services.SearchOutcome:
    return services.image_search(gallery=cleaned["gallery"], data=cleaned["image_bytes"], k=cleaned["k"],
                                 metric=cleaned["metric"])


def results(form, outcome: services.SearchOutcome | None, example) -> dict:
    return {"outcome": outcome, "example": example, "metric": outcome.metric if outcome else None,
            "preview": query_preview(outcome.query) if outcome else None}


def page_context(form) -> dict:
    return {"current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
            "examples": selectors.example_queries(),
            "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}


def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    """Search now; the results header first, then each card as its explanation is ready."""
    query = services.image_query(gallery=cleaned["gallery"], data=cleaned["image_bytes"], k=cleaned["k"],
                                 metric=cleaned["metric"])
    preview, metric = query_preview(query), cleaned["metric"]
    context = {"outcome": None, "streaming": True, "preview": preview, "example": example, "k": cleaned["k"],
               "metric": metric}
    return context, QueryStream(
        items=explain_hits(query.decoded.image, query.hits, cleaned["gallery"]),
        card=lambda item: result_card(item, example=example),
        done=lambda shown: render_to_string("retrieval/_status.html", {
            "state": "done", "count": shown, "preview": preview, "metric": metric}))


def rows(outcome: services.SearchOutcome):
    return (((), item) for item in outcome.results)
