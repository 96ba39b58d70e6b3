"""Reads of the training centre: runs visible to a user, the queue, what serves, and runs compared."""

import json
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from retrieval.core.runtime import active_pointer, serving_checkpoint_path
from retrieval.models import TrainingRun
from retrieval.training.presenters import public_config, public_path, without_paths


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
        "kind": "history", "run": run.pk, "family": run.family, "status": run.status,
        "config": public_config(run.config),
        "progress": run.progress, "curve": run.curve, "history": run.history, "final": run.final_metrics,
        "error": without_paths(run.error), "device": run.device, "checkpoint": public_path(run.checkpoint),
        "samples": run.samples,
        "train_seconds": run.train_seconds, "cancel_requested": run.cancel_requested,
        "queue_position": queue_positions().get(run.pk) if run.status == TrainingRun.Status.QUEUED else None,
        "activation": {"state": run.activation, "progress": run.activation_progress,
                       "error": without_paths(run.activation_error)},
        "created": stamp(run.created), "started": stamp(run.started), "finished": stamp(run.finished),
    }


_LOWER_IS_BETTER = ("loss", "error", "mse", "l1")


def lower_is_better(measure: str) -> bool:
    return any(word in measure.lower() for word in _LOWER_IS_BETTER)


def training_comparison(runs: list[TrainingRun]) -> dict:
    """Runs side by side: one row per configuration value (marked where the runs differ) and
    per final metric (the best value marked)."""
    configs = [public_config(run.config) for run in runs]
    config_keys = list(dict.fromkeys(key for config in configs for key in config))
    metric_keys = list(dict.fromkeys(key for run in runs for key in run.final_metrics if key != "epoch"))
    config_rows = [{"name": key, "values": [config.get(key) for config in configs],
                    "differs": len({repr(config.get(key)) for config in configs}) > 1} for key in config_keys]
    metric_rows = []
    for key in metric_keys:
        values = [run.final_metrics.get(key) for run in runs]
        present = [v for v in values if isinstance(v, (int, float))]
        best = (min if lower_is_better(key) else max)(present) if len(present) > 1 else None
        metric_rows.append({"name": key, "cells": [{"value": v, "best": v is not None and v == best} for v in values]})
    return {"runs": runs, "config_rows": config_rows, "metric_rows": metric_rows}


# --- checkpoints: the committed models and the one serving searches -----------------------------

def checkpoint_record(path: Path) -> dict | None:
    """The JSON record a trainer writes beside its checkpoint (configuration, final metrics ...)."""
    try:
        record = json.loads(Path(path).with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def committed_models(*, gallery_slug: str | None = None) -> list[dict]:
    """The checkpoints shipped in the checkpoint folder, each with its family, architecture,
    recorded final metrics, size, and whether it is the descriptor serving searches now."""
    folder = Path(settings.RETRIEVAL["CHECKPOINT_DIR"])
    serving = serving_checkpoint_path(gallery_slug or settings.RETRIEVAL["DEFAULT_GALLERY"]).resolve()
    models = []
    for weights in sorted(folder.glob("*.pt")):
        record = checkpoint_record(weights) or {}
        config = record.get("config") or {}
        models.append({
            "name": weights.name, "family": weights.stem.split("-")[0], "kind": record.get("kind", ""),
            "arch": record.get("arch") or config.get("arch") or "", "gallery": config.get("gallery") or "",
            "size": weights.stat().st_size,
            "metrics": {k: v for k, v in (record.get("final") or {}).items() if k != "epoch"},
            "epochs": config.get("epochs"), "trained_at": record.get("trained_at", ""), "seconds": record.get("seconds"),
            "serving": weights.resolve() == serving,
        })
    return models


def activation_warnings(run: TrainingRun, *, gallery_slug: str | None = None) -> list[dict]:
    """The held-out measures on which ``run`` does worse than the checkpoint serving searches
    (as that checkpoint's record has them); training losses are not compared."""
    serving = serving_checkpoint_path(gallery_slug or settings.RETRIEVAL["DEFAULT_GALLERY"])
    theirs = (checkpoint_record(serving) or {}).get("final") or {}
    worse = []
    for measure, ours in (run.final_metrics or {}).items():
        other = theirs.get(measure)
        comparable = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (ours, other))
        if measure == "epoch" or measure.startswith("train") or not comparable:
            continue
        if (ours > other) if lower_is_better(measure) else (ours < other):
            worse.append({"measure": measure, "run": ours, "serving": other, "serving_name": public_path(serving)})
    return worse
