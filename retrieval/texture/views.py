"""What the texture page `/texture/` shows (``core.views`` and ``core.streams`` run it, like every
query kind's page): upload a texture or pick one of the gallery's, drag a box over it, choose
the code length; the box's patch and the TSN's 2x expansion of it, the query's code, the
gallery ranked by Hamming distance (each hit's code beside the query's, its histogram
explanation), and for a gallery texture its precision-recall curve over the whole gallery.

A GET with ``example=`` (a picked texture) or ``q=`` (a stored upload), ``box=`` and ``bits=``
searches without JavaScript; over the websocket (`{"type": "texture", ...}` on `/ws/search/`)
the head comes first and each hit follows.
"""

import json

from django.conf import settings
from django.db.models import Min
from django.template.loader import render_to_string

from retrieval.core.streams import QueryStream
from retrieval.engine.errors import NotReady
from retrieval.models import Gallery

from . import services
from .forms import BITS, DEFAULT_BITS
from .queries import TextureOutcome, texture_query, texture_search


def run(cleaned: dict) -> TextureOutcome:
    return texture_search(cleaned)


def results(form, outcome: TextureOutcome | None, example) -> dict:
    return {"outcome": outcome, "pr_json": pr_json(outcome)}


def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    outcome, hits = texture_query(cleaned)

    def card(hit) -> str:
        return render_to_string("retrieval/texture/_card.html", {"hit": hit, "outcome": outcome, "oob": True})

    def done(shown: int) -> str:
        return render_to_string("retrieval/texture/_status.html", {"outcome": outcome, "shown": shown, "oob": True})

    return {"outcome": outcome, "pending": True, "pr_json": pr_json(outcome)}, QueryStream(items=hits, card=card, done=done)


def pr_json(outcome: TextureOutcome | None) -> str:
    """The curve as the page's chart script reads it (``data-pr``)."""
    if outcome is None or outcome.pr is None:
        return ""
    # A radius that retrieves nothing has no precision (``pr_curve`` calls it 1.0): not drawn.
    points = [(r, p) for r, p in zip(outcome.pr["recall"], outcome.pr["precision"], strict=True) if r > 0 or p < 1.0]
    return json.dumps({"recall": [r for r, _ in points], "precision": [p for _, p in points], "bits": outcome.bits})


def link_fields(cleaned: dict) -> dict:
    fields = {"bits": cleaned["bits"]}
    if cleaned.get("box") is not None:
        fields["box"] = cleaned["box"].as_text()
    return fields


def page_context(form) -> dict:
    value = form["bits"].value() if form.is_bound else form.initial.get("bits")
    current = int(value) if str(value).isdigit() and int(value) in BITS else DEFAULT_BITS
    return {"examples": examples(), "bits_options": BITS, "current_bits": current,
            "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024), "index_note": index_note()}


def examples() -> list:
    """One gallery texture per class (its first crop), to pick from."""
    gallery = Gallery.default(services.SLUG)
    if gallery is None:
        return []
    firsts = gallery.images.values("label").annotate(first=Min("id")).values_list("first", flat=True)
    return list(gallery.images.filter(pk__in=list(firsts)).order_by("label", "id"))


def index_note() -> str:
    """Why the page cannot search yet, if it cannot (shown above the controls)."""
    try:
        services.texture_gallery()
        services.hasher()
    except NotReady as error:
        return str(error)
    status = services.building()
    if status is not None:
        return f"{services.building_message(status)}: searches work in a few seconds."
    return ""


def rows(outcome: TextureOutcome):
    return (((outcome.bits,), hit.item) for hit in outcome.hits)


def warm(pair) -> None:
    """At server start-up: load the hashing network, and build the texture index in the
    background when it is missing (queries meanwhile are told how far it got)."""
    services.build_in_background()
