"""Evaluation tasks behind `manage.py evaluate <task>`: each loads its data and checkpoint
from the portal's settings and hands arrays to the pure ``engine.evaluation``.

A task is one entry in ``EVALUATIONS``: its command-line options, a function that returns
the JSON report, and a readable rendering of that report. Later tasks (``sketch``,
``degraded``) are added here the same way.
"""

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from .engine.config import METRICS
from .engine.data import fashion_mnist
from .engine.descriptors import load_descriptor
from .engine.errors import NotReady
from .engine.evaluation import DEFAULT_KS, evaluate_retrieval, target_check
from .runtime import engine, serving_checkpoint_path

log = logging.getLogger(__name__)
# The retrieval quality the portal promises on Fashion-MNIST (test queries, full gallery).
IMAGE_TARGET = ("P@5", 0.92)


class InvalidOptions(ValueError):
    """A combination of options the task cannot run with; the message names the option."""


@dataclass(frozen=True)
class EvaluationTask:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[..., dict]  # the parsed options (extra keys ignored) -> the JSON report
    render: Callable[[dict], str]  # the report as a readable table


EVALUATIONS: dict[str, EvaluationTask] = {}


def register(task: EvaluationTask) -> EvaluationTask:
    if task.name in EVALUATIONS:
        raise ValueError(f"evaluation task {task.name!r} is registered twice")
    EVALUATIONS[task.name] = task
    return task


# --- image: Fashion-MNIST test queries against the training gallery ---------------------

def image_evaluate(*, checkpoint: Path | None = None, queries: int | None = None, gallery_size: int | None = None,
                   metrics: tuple[str, ...] = METRICS) -> dict:
    """P@k, mAP and top-k accuracy of a descriptor checkpoint on Fashion-MNIST, as one JSON-ready dict."""
    started = time.perf_counter()
    checkpoint = Path(checkpoint or serving_checkpoint_path(settings.RETRIEVAL["DEFAULT_GALLERY"]))
    if not checkpoint.exists():
        raise NotReady(f"No descriptor checkpoint at {checkpoint}: train one or pass --checkpoint.")
    descriptor = load_descriptor(checkpoint, engine().device)
    t0 = time.perf_counter()
    gallery_vectors, gallery_labels = _describe_split(descriptor, "train", gallery_size)
    query_vectors, query_labels = _describe_split(descriptor, "test", queries)
    describe_s = time.perf_counter() - t0
    log.info("described %d gallery and %d query images in %.1f s; ranking", len(gallery_vectors), len(query_vectors),
             describe_s)
    results = evaluate_retrieval(query_vectors, query_labels, gallery_vectors, gallery_labels, metrics=metrics)
    reports = {metric: result.report for metric, result in results.items()}
    return {
        "task": "image", "checkpoint": str(checkpoint), "checkpoint_id": descriptor.checkpoint_id,
        "arch": descriptor.arch, "dim": descriptor.dim, "device": str(descriptor.device),
        "gallery": len(gallery_labels), "queries": len(query_labels),
        **reports,
        "target": target_check(reports, *IMAGE_TARGET),
        "timings_s": {"describe": round(describe_s, 2), **{m: r.seconds for m, r in results.items()}},
        "seconds": round(time.perf_counter() - started, 2),
    }


def _describe_split(descriptor, split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Descriptors and labels of the first ``limit`` images of a split, read from the idx files.

    The arrays, not the imported gallery, so that evaluating needs no database; and
    ``describe_arrays``, the call every search ends in (Fashion-MNIST images are already in
    gallery style, so the search path's ``view`` would leave them as they are).
    """
    images, labels = fashion_mnist.load_split(settings.RETRIEVAL["FASHION_MNIST_DIR"], split, limit=limit)
    return descriptor.describe_arrays(images), labels


def _image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="descriptor checkpoint (default: the serving one)")
    parser.add_argument("--queries", type=positive_int, default=None,
                        help="use the first N test images (default: all 10,000)")
    parser.add_argument("--gallery-size", type=positive_int, default=None,
                        help=f"use the first N training images (default: all 60,000; at least {max(DEFAULT_KS)})")
    parser.add_argument("--metric", choices=(*METRICS, "both"), default="both")


def _image_run(*, checkpoint: Path | None, queries: int | None, gallery_size: int | None, metric: str, **_) -> dict:
    if gallery_size is not None and gallery_size < max(DEFAULT_KS):
        raise InvalidOptions(f"--gallery-size must be at least {max(DEFAULT_KS)} (the largest k)")
    return image_evaluate(checkpoint=checkpoint, queries=queries, gallery_size=gallery_size,
                          metrics=METRICS if metric == "both" else (metric,))


def _image_render(report: dict) -> str:
    metrics = [m for m in METRICS if m in report]
    names = [name for name in report[metrics[0]] if name != "queries"]
    lines = [
        f"checkpoint {report['checkpoint']} ({report['checkpoint_id']}, {report['arch']}, {report['dim']}-d)",
        f"{report['queries']} test queries against {report['gallery']} gallery images",
        "",
        f"{'measure':<16}" + "".join(f"{m:>10}" for m in metrics),
        *(f"{name:<16}" + "".join(f"{report[m][name]:>10.4f}" for m in metrics) for name in names),
        "",
        _target_line(report["target"]),
        _timings_line(report["seconds"], report["timings_s"]),
    ]
    return "\n".join(lines)


def _timings_line(seconds: float, timings: dict) -> str:
    parts = [f"describe {timings['describe']:.1f} s"] + [
        f"{metric} top-k {t['topk']:.1f} s + mAP {t['mAP']:.1f} s" for metric, t in timings.items() if metric != "describe"
    ]
    return f"{seconds:.1f} s in all: " + ", ".join(parts)


def _target_line(target: dict) -> str:
    measure = next(k for k in target if k not in ("met", "by_metric"))
    verdicts = ", ".join(f"{m} {'met' if ok else 'MISSED'}" for m, ok in target["by_metric"].items())
    return f"target {measure} >= {target[measure]}: {verdicts}"


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return number


register(EvaluationTask(
    name="image", help="Fashion-MNIST test queries against the training gallery: P@k, mAP, top-k accuracy.",
    add_arguments=_image_arguments, run=_image_run, render=_image_render,
))

# Further tasks register themselves on import (one line each).
from . import sketch_evaluation  # noqa: E402,F401,I001
from . import degraded_evaluation  # noqa: E402,F401
