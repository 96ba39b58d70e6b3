"""Reads: what pages and the API show."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, QuerySet

from .engine.index import SearchHits
from .models import Gallery, GalleryImage, TrainingRun
from .runtime import active_pointer, engine, serving_pair


def gallery_list() -> QuerySet[Gallery]:
    return Gallery.objects.annotate(image_count=Count("images"))


def gallery_images(*, gallery: Gallery, split: str = GalleryImage.Split.TRAIN,
                   label: int | None = None) -> QuerySet[GalleryImage]:
    images = gallery.images.filter(split=split)
    return images if label is None else images.filter(label=label)


def gallery_page(*, gallery: Gallery, split: str, label: int | None, page: int | str | None, per_page: int = 60) -> Page:
    """One page of a gallery; out-of-range or malformed page numbers give the nearest valid page."""
    return Paginator(gallery_images(gallery=gallery, split=split, label=label), per_page).get_page(page)


def label_counts(*, gallery: Gallery, split: str) -> dict[int, int]:
    rows = gallery.images.filter(split=split).values("label").annotate(n=Count("id"))
    return {row["label"]: row["n"] for row in rows}


def example_queries(*, count: int = 10) -> list[GalleryImage]:
    """One query image per class from the default gallery's test split, for one-click demos."""
    gallery = Gallery.objects.filter(slug=settings.RETRIEVAL["DEFAULT_GALLERY"]).first()
    if gallery is None:
        return []
    firsts = (gallery.images.filter(split=GalleryImage.Split.TEST).values("label")
              .annotate(first=Min("id")).order_by("label").values_list("first", flat=True))
    return list(GalleryImage.objects.select_related("gallery").filter(pk__in=list(firsts)[:count]).order_by("label"))


def example_image(value, gallery: Gallery | None = None) -> GalleryImage | None:
    """The labelled gallery image a query came from, when a page or message names it by id
    (in ``gallery`` when given); None for anything else."""
    if not str(value or "").isdigit():
        return None
    images = GalleryImage.objects.select_related("gallery")
    return images.filter(pk=int(value), **({"gallery": gallery} if gallery else {})).first()


def image_neighbours(*, image: GalleryImage, k: int, metric: str) -> SearchHits:
    """The k nearest indexed gallery items to ``image``. Query-split images are described
    on the fly; gallery images use their stored vector."""
    slug = image.gallery.slug
    pair = serving_pair(slug)
    if image.pk in pair.index:
        hits = engine().neighbours(slug, image.pk, k=k, metric=metric)
    else:
        from .services import open_gallery_image

        vector = pair.descriptor.describe_images([open_gallery_image(image.file.name)])
        row = pair.index.search(vector, k, metric)
        hits = SearchHits(ids=row.ids[0], distances=row.distances[0], labels=row.labels[0])
    return hits


# --- training runs -----------------------------------------------------------------------

def training_runs(*, user) -> QuerySet[TrainingRun]:
    """The runs ``user`` may see: all of them for staff, the public ones for everyone else."""
    runs = TrainingRun.objects.select_related("requested_by").defer("curve", "samples")
    return runs if getattr(user, "is_staff", False) else runs.filter(public=True)


def training_run_for(*, user, pk: int) -> TrainingRun | None:
    return TrainingRun.objects.select_related("requested_by").filter(
        pk=pk, **({} if getattr(user, "is_staff", False) else {"public": True})).first()


def queue_positions() -> dict[int, int]:
    """Queued runs and their place in the queue (1 = next)."""
    queued = TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED).order_by("created", "id")
    return {pk: position for position, pk in enumerate(queued.values_list("pk", flat=True), start=1)}


def active_run_id(*, gallery_slug: str | None = None) -> int | None:
    """The run whose checkpoint serves the gallery, or None for the committed default."""
    pointer = active_pointer(gallery_slug or settings.RETRIEVAL["DEFAULT_GALLERY"])
    return pointer.get("run") if pointer else None


def training_run_state(run: TrainingRun) -> dict:
    """Everything a watcher needs to draw a run: the websocket's "history" message."""
    stamp = lambda value: value.isoformat() if value else None  # noqa: E731
    return {
        "kind": "history", "run": run.pk, "family": run.family, "status": run.status, "config": run.config,
        "progress": run.progress, "curve": run.curve, "history": run.history, "final": run.final_metrics,
        "error": run.error, "device": run.device, "checkpoint": run.checkpoint, "samples": run.samples,
        "train_seconds": run.train_seconds, "cancel_requested": run.cancel_requested,
        "queue_position": queue_positions().get(run.pk) if run.status == TrainingRun.Status.QUEUED else None,
        "activation": {"state": run.activation, "progress": run.activation_progress, "error": run.activation_error},
        "created": stamp(run.created), "started": stamp(run.started), "finished": stamp(run.finished),
    }


_LOWER_IS_BETTER = ("loss", "error")


def training_comparison(runs: list[TrainingRun]) -> dict:
    """Runs side by side: one row per configuration value (marked where the runs differ) and
    per final metric (the best value marked)."""
    config_keys = list(dict.fromkeys(key for run in runs for key in run.config))
    metric_keys = list(dict.fromkeys(key for run in runs for key in run.final_metrics if key != "epoch"))
    config_rows = [{"name": key, "values": [run.config.get(key) for run in runs],
                    "differs": len({repr(run.config.get(key)) for run in runs}) > 1} for key in config_keys]
    metric_rows = []
    for key in metric_keys:
        values = [run.final_metrics.get(key) for run in runs]
        present = [v for v in values if isinstance(v, (int, float))]
        lower = any(word in key.lower() for word in _LOWER_IS_BETTER)
        best = (min if lower else max)(present) if len(present) > 1 else None
        metric_rows.append({"name": key, "cells": [{"value": v, "best": v is not None and v == best} for v in values]})
    return {"runs": runs, "config_rows": config_rows, "metric_rows": metric_rows}
