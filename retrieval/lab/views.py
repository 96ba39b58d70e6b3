"""What the lab page `/lab/` shows: one query, one column per descriptor (``core.views`` and
``core.streams`` run them, like every query kind's page).

A GET link (`?example=<id>` or `?q=<stored query>`, with `k`, `metric`, `gallery`) runs the
query without JavaScript; POST an upload. Over the websocket (`{"type": "lab", ...}` on
`/ws/search/`) the head comes first and each descriptor's column follows when it is ready.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Min
from django.template.loader import render_to_string

from retrieval.core.setup_state import not_ready_message, preparing
from retrieval.core.streams import QueryStream
from retrieval.engine.images import decode_image
from retrieval.models import Gallery

from .queries import COLUMNS, TITLES, LabColumn, LabQueryHead, lab_query


@dataclass(frozen=True)
class LabOutcome:
    head: LabQueryHead
    columns: list[LabColumn]


def _started(cleaned: dict, example):
    decoded = decode_image(cleaned["image_bytes"], max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
    return lab_query(gallery=cleaned["gallery"], image=decoded.image, k=cleaned["k"], metric=cleaned["metric"],
                     example=example)


def run(cleaned: dict) -> LabOutcome:
    head, columns = _started(cleaned, cleaned.get("example"))
    return LabOutcome(head=head, columns=list(columns))


def results(form, outcome: LabOutcome | None, example) -> dict:
    return {"head": outcome.head if outcome else None, "columns": outcome.columns if outcome else ()}


def page_context(form) -> dict:
    gallery = _chosen_gallery(form)
    note = not_ready_message(f"The gallery {gallery.name}") if gallery and preparing(gallery.slug) else ""
    return {"examples": lab_examples(gallery) if gallery else [], "gallery_note": note,
            "map_descriptors": [(name, TITLES[name]) for name in COLUMNS],
            "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}


def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    head, columns = _started(cleaned, example or cleaned.get("example"))
    return {"head": head, "columns": []}, QueryStream(
        items=columns,
        card=lambda column: render_to_string("retrieval/lab/_column.html", {"column": column, "oob": True}),
        done=lambda shown: render_to_string("retrieval/lab/_status.html", {"shown": shown, "oob": True}))


def rows(outcome: LabOutcome):
    return (((column.name,), item) for column in outcome.columns for item in column.items)


def _chosen_gallery(form) -> Gallery | None:
    slug = (form.data.get("gallery") if form.is_bound else form.initial.get("gallery")) or form.fields["gallery"].initial
    return Gallery.objects.filter(slug=slug).first()


def lab_examples(gallery, count: int = 17) -> list:
    """One gallery image per class (the first of each), for one-click queries."""
    firsts = gallery.images.values("label").annotate(first=Min("id")).order_by("label").values_list("first", flat=True)
    return list(gallery.images.filter(pk__in=list(firsts)[:count]).order_by("label"))
