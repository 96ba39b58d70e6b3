"""What the composites page `/composites/` shows (``core.views`` and ``core.streams`` run it, like
every query kind's page): pick 2-3 gallery images and how to combine them, or upload a composite;
the composite, the region each found source explains, the GAN's reconstruction, each source with
its distance (the true ones marked when the page built the composite), and every other method's
top k beside them.

A GET with ``sources=`` (and the other fields) builds and searches without JavaScript; over the
websocket (`{"type": "composites", ...}` on `/ws/search/`) the head comes first and each source
found follows, so a blend slider re-ranks live.
"""

from django.db.models import Min
from django.template.loader import render_to_string

from retrieval.core.setup_state import not_ready_message, preparing
from retrieval.core.streams import QueryStream
from retrieval.models import Gallery

from .forms import CompositeQueryForm
from .queries import composites_query

LINK_FIELDS = ("combine", "layout", "texture", "scale", "seed")


def run(cleaned: dict):
    return composites_query(cleaned)


def results(form, outcome, example) -> dict:
    return {"outcome": outcome}


def stream(cleaned: dict, example) -> tuple[dict, QueryStream]:
    outcome = composites_query(cleaned)
    return {"outcome": outcome, "pending": True}, QueryStream(
        items=iter(outcome.found),
        card=lambda found: render_to_string("retrieval/composites/_source.html", {"found": found, "oob": True}),
        done=lambda shown: render_to_string("retrieval/composites/_status.html", {"shown": shown, "outcome": outcome,
                                                                                   "oob": True}))


def link_fields(cleaned: dict) -> dict:
    fields = {name: cleaned[name] for name in LINK_FIELDS if cleaned.get(name) not in (None, "")}
    if cleaned.get("sources") and cleaned["combine"] != "upload":
        fields["sources"] = ",".join(map(str, cleaned["sources"]))
    if cleaned.get("alphas"):
        fields["alphas"] = ",".join(f"{a:g}" for a in cleaned["alphas"])
    return fields


def page_context(form) -> dict:
    """The controls; a plain GET naming ``sources`` also builds and searches (a link, no JavaScript)."""
    context = {"examples": _examples(form), "picked": _picked(form), "gallery_note": _gallery_note(form)}
    if not form.is_bound and form.initial.get("sources"):
        bound = CompositeQueryForm(form.initial)
        if bound.is_valid():
            from retrieval.engine.errors import EngineError

            try:
                context["outcome"] = composites_query(bound.cleaned_data)
            except EngineError as error:
                context["error_messages"] = [str(error)]
        else:
            context["error_messages"] = [m for errors in bound.errors.values() for m in errors]
    return context


def rows(outcome):
    yield from ((("explain",), found.item) for found in outcome.found)
    for column in outcome.columns:
        yield from (((column.name,), item) for item, _ in column.items)


def _slug(form) -> str:
    return (form.data.get("gallery") if form.is_bound else form.initial.get("gallery")) or form.fields["gallery"].initial


def _gallery(form) -> Gallery | None:
    return Gallery.objects.filter(slug=_slug(form)).first()


def _gallery_note(form) -> str:
    """While `make run`'s set-up still imports the chosen gallery (or it was never imported):
    say so on the page rather than show an empty picker."""
    gallery = _gallery(form)
    if not _slug(form) or (gallery is not None and not preparing(gallery.slug)):
        return ""
    return not_ready_message(f"The gallery {gallery.name if gallery else _slug(form)}")


def _picked(form) -> list[str]:
    text = (form.data.get("sources") if form.is_bound else form.initial.get("sources")) or ""
    return [p.strip() for p in str(text).split(",") if p.strip()]


def _examples(form, count: int = 34) -> list:
    """Two gallery images per class (the first of each, then the second), to pick sources from."""
    from .services import SPLIT

    gallery = _gallery(form)
    if gallery is None or gallery.slug not in SPLIT:
        return []
    images = gallery.images.filter(split=SPLIT[gallery.slug])
    firsts = list(images.values("label").annotate(first=Min("id")).values_list("first", flat=True))
    seconds = list(images.exclude(pk__in=firsts).values("label").annotate(first=Min("id")).values_list("first", flat=True))
    chosen = (sorted(firsts) + sorted(seconds))[:count]
    return list(images.filter(pk__in=chosen).order_by("label", "id"))
