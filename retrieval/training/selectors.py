"""Reads of the training centre: runs visible to a user, the queue, what serves, and runs compared."""

from django.conf import settings
from django.db.models import QuerySet

from retrieval.core.runtime import active_pointer
from retrieval.models import TrainingRun


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
