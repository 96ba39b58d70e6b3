"""What the image search page shows: the page's controls (the descriptor choice among them),
the results fragment with "what the network sees" (the mask outlined over the query) and the
unsure flag, and the websocket query's first fragment and card stream (``core.views`` and
``core.streams`` run them)."""

from django.conf import settings
from django.template.loader import render_to_string

from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, current_choice
from retrieval.core.presenters import PREVIEW_SIDE, png_data_url, query_preview
from retrieval.core.results import explain_hits
from retrieval.core.streams import QueryStream, result_card
from retrieval.engine.photo.outline import outline_overlay
from retrieval.galleries import selectors
from retrieval.models import Gallery
from retrieval.photo.services import DESCRIPTOR_MODES, default_descriptor_mode, photo_ready
from retrieval.search import services


def run(cleaned: dict) -> services.SearchOutcome:
    return services.image_search(**query_arguments(cleaned))


def query_arguments(cleaned: dict) -> dict:
    return {"gallery": cleaned["gallery"], "data": cleaned["image_bytes"], "k": cleaned["k"],
            "metric": cleaned["metric"], "descriptor": cleaned["descriptor"]}


def results(form, outcome: services.SearchOutcome | None, example) -> dict:
    return {"outcome": outcome, "example": example, "metric": outcome.metric if outcome else None,
            "preview": photo_preview(outcome.query, outcome.descriptor) if outcome else None,
            "unsure": outcome.unsure if outcome else None}


def photo_preview(query, descriptor: str) -> dict:
    """``core.presenters.query_preview`` and what the photo normalisation found: the mask's
    outline over the query, whether an item was found and how cleanly, which descriptor."""
    preview = query_preview(query)
    view = query.view
    shown = query.decoded.image.copy()
    shown.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    outlined = not getattr(view, "gallery_style", True) and getattr(view, "found", False)
    preview.update(outline=png_data_url(outline_overlay(shown, view)) if outlined else None,
                   found=getattr(view, "found", True), confidence=getattr(view, "confidence", 1.0),
                   gallery_style=getattr(view, "gallery_style", False), descriptor=descriptor,
                   descriptor_title=DESCRIPTOR_MODES.get(descriptor, descriptor))
    return preview


def page_context(form) -> dict:
    gallery = chosen_gallery(form)
    ready = bool(gallery and photo_ready(gallery.slug))
    default = default_descriptor_mode(gallery.slug) if gallery else "standard"
    return {"current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
            "current_descriptor": current_choice(form, "descriptor", DESCRIPTOR_MODES, default),
            "descriptors": DESCRIPTOR_MODES, "photo_ready": ready,
            "examples": selectors.example_queries(),
            "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}


def chosen_gallery(form) -> Gallery | None:
    slug = (form.data.get("gallery") if form.is_bound else None) or settings.RETRIEVAL["DEFAULT_GALLERY"]
    return Gallery.objects.filter(slug=slug).first()


def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    """Search now; the results header first (with the unsure flag), then each card as its
    explanation is ready."""
    found = services.image_query(**query_arguments(cleaned))
    query = found.query
    preview, metric = photo_preview(query, found.descriptor), cleaned["metric"]
    context = {"outcome": None, "streaming": True, "preview": preview, "example": example, "k": cleaned["k"],
               "metric": metric, "unsure": found.unsure}
    return context, QueryStream(
        items=explain_hits(query.decoded.image, query.hits, cleaned["gallery"]),
        card=lambda item: result_card(item, example=example),
        done=lambda shown: render_to_string("retrieval/_status.html", {
            "state": "done", "count": shown, "preview": preview, "metric": metric}))


def warm(pair) -> None:
    """At server start-up: the unsure rule's calibration of the serving pair (and the photo
    pair, where ready) for the default metric, read, or measured in a background thread when
    missing (10,000 test queries: half a minute on a fresh set-up, which then serves without
    the flag meanwhile rather than stay "warming up")."""
    from retrieval.photo.services import calibration_if_ready, photo_pair

    slug = settings.RETRIEVAL["DEFAULT_GALLERY"]
    gallery = Gallery.objects.filter(slug=slug).first()
    if gallery is None or not services.gallery_is_calibrated(gallery):
        return
    pairs = [pair] + ([photo_pair(slug)] if photo_ready(slug) else [])
    for each in pairs:
        try:
            calibration_if_ready(each, DEFAULT_METRIC)
        except OSError:
            return


def rows(outcome: services.SearchOutcome):
    return (((), item) for item in outcome.results)
