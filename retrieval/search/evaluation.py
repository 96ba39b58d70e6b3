"""`manage.py evaluate image`: Fashion-MNIST test queries against the training gallery.

Loads its data and checkpoint from the portal's settings and hands arrays to the pure
``engine.evaluation``; registered with the image query kind (``search/register.py``).
"""

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from django.conf import settings

from retrieval.core.evaluation import EvaluationTask, InvalidOptions, positive_int, target_line, timings_line
from retrieval.core.runtime import engine, serving_checkpoint_path
from retrieval.engine.config import METRICS
from retrieval.engine.data import fashion_mnist
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.errors import NotReady
from retrieval.engine.evaluation import DEFAULT_KS, evaluate_retrieval, target_check

log = logging.getLogger(__name__)
# The retrieval quality the portal promises on Fashion-MNIST (test queries, full gallery).
IMAGE_TARGET = ("P@5", 0.92)










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
        target_line(report["target"]),
        timings_line(report["seconds"], report["timings_s"]),
    ]
    return "\n".join(lines)








TASK = EvaluationTask(
    name="image", help="Fashion-MNIST test queries against the training gallery: P@k, mAP, top-k accuracy.",
    add_arguments=_image_arguments, run=_image_run, render=_image_render,
)
