"""`manage.py evaluate photo`: shop-like photo queries made from the Fashion-MNIST test split
(``engine.photo.queries``: its own seed, palette and placement, every background kind) against
the training gallery, through three pipelines: the old one (``to_gallery_style`` + the
standard descriptor), normalisation only (``normalise_photo`` + the standard descriptor) and
normalisation + the photo descriptor. P@5, P@10, top-5 accuracy and mAP overall and per
background kind; the serving pipeline's figures also on held-out kinds (``held_out``) and on
the plain test images (``clean``: as photo mode serves them, those in the gallery's style by
the standard descriptor; the photo descriptor's own figure is ``clean_photo_descriptor``).
mAP ranks the whole gallery for the first ``--map-queries``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image
from tqdm import tqdm

from retrieval.core.evaluation import EvaluationTask, InvalidOptions, positive_int
from retrieval.core.runtime import engine, serving_checkpoint_path
from retrieval.engine.config import METRICS
from retrieval.engine.data import fashion_mnist
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.descriptors.cnn import to_gallery_style
from retrieval.engine.errors import NotReady
from retrieval.engine.evaluation import full_ranking_ap
from retrieval.engine.index import VectorIndex
from retrieval.engine.metrics import retrieval_report
from retrieval.engine.photo.backgrounds import HELD_OUT_KINDS, KINDS, TRAIN_KINDS
from retrieval.engine.photo.normalise import normalise_photo
from retrieval.engine.photo.queries import QUERY_SEED, photo_queries
from retrieval.engine.photo.unsure import calibrate, judge
from retrieval.photo.services import photo_checkpoint_path

KS = (1, 5, 10)
TARGETS = {"held_out.P@5": 0.80, "clean.P@5": 0.92}
DEFAULT_MAP_QUERIES = 2000
PIPELINES = {"old": ("old", "standard"), "normalised": ("normalised", "standard"), "photo": ("normalised", "photo")}


def photo_evaluate(*, checkpoint: Path | None = None, photo_checkpoint: Path | None = None, queries: int | None = None,
                   gallery_size: int | None = None, metric: str = "cosine", seed: int = QUERY_SEED,
                   map_queries: int = DEFAULT_MAP_QUERIES, progress: bool = True) -> dict:
    started = time.perf_counter()
    descriptors = load_descriptors(checkpoint, photo_checkpoint)
    folder = settings.RETRIEVAL["FASHION_MNIST_DIR"]
    gallery_images, gallery_labels = fashion_mnist.load_split(folder, "train", limit=gallery_size)
    test_images, labels = fashion_mnist.load_split(folder, "test", limit=queries)
    sets, kinds, iou = query_sets(test_images, seed, progress)
    map_queries = min(map_queries, len(labels))
    results, nearest, galleries, clean_runs = {}, {}, {}, {}
    for name, (query_set, mode) in PIPELINES.items():
        if mode not in descriptors:
            continue
        if mode not in galleries:  # the old and the normalised pipeline share the standard descriptor's gallery
            galleries[mode] = descriptors[mode].describe_arrays(gallery_images)
        results[name], nearest[name], clean_runs[mode] = evaluate_pipeline(
            descriptors[mode], galleries[mode], gallery_labels, sets[query_set], sets["clean"], labels, kinds, metric,
            map_queries)
    serving = "photo" if "photo" in results else "normalised"
    if serving == "photo":  # as the server serves photo mode: gallery-style queries by the standard pair
        results["photo"]["clean_photo_descriptor"] = results["photo"]["clean"]
        results["photo"]["clean"] = routed_clean(clean_runs, sets["gallery_style"], labels, map_queries)
    calibration = calibrate(nearest[serving]["clean"], metric)
    flagged = [judge(d, calibration, found=f, confidence=c).unsure
               for d, f, c in zip(nearest[serving]["photos"], sets["found"], sets["confidence"], strict=True)]
    report = {
        "task": "photo", "metric": metric, "seed": seed, "gallery": int(len(gallery_labels)),
        "queries": int(len(labels)), "map_queries": int(map_queries),
        "train_kinds": list(TRAIN_KINDS), "held_out_kinds": list(HELD_OUT_KINDS),
        "descriptors": {mode: {"checkpoint_id": d.checkpoint_id, "path": str(path)}
                        for mode, (d, path) in ((m, (d, descriptors[f"{m}_path"])) for m, d in descriptors.items()
                                                if not m.endswith("_path"))},
        "serving": serving, "results": results,
        "held_out": results[serving]["held_out"], "clean": results[serving]["clean"],
        "mask_iou": {kind: round(float(np.median(iou[kinds == kind])), 4) for kind in KINDS if (kinds == kind).any()},
        "unsure": {"calibration": calibration.to_dict(), "photo_queries_flagged": round(float(np.mean(flagged)), 4),
                   "found": round(float(np.mean(sets["found"])), 4)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    report["targets"] = {name: {"target": target, "value": dig(report, name), "met": dig(report, name) >= target}
                         for name, target in TARGETS.items()}
    return report


def load_descriptors(checkpoint: Path | None, photo_checkpoint: Path | None) -> dict:
    standard = Path(checkpoint or serving_checkpoint_path(settings.RETRIEVAL["DEFAULT_GALLERY"]))
    if not standard.is_file():
        raise NotReady(f"No descriptor checkpoint at {standard}: train one or pass --checkpoint.")
    out = {"standard": load_descriptor(standard, engine().device), "standard_path": standard}
    photo = Path(photo_checkpoint or photo_checkpoint_path())
    if photo.is_file():
        out.update(photo=load_descriptor(photo, engine().device), photo_path=photo)
    return out


def query_sets(test_images: np.ndarray, seed: int, progress: bool) -> tuple[dict, np.ndarray, np.ndarray]:
    """The photo queries as the old rule and the new normalisation make them, the clean test
    images through the normalisation, each query's kind and its mask's IoU with the true one."""
    n = len(test_images)
    old, new, clean = (np.zeros((n, 28, 28), np.uint8) for _ in range(3))
    kinds, iou = np.empty(n, object), np.zeros(n)
    found, confidence, gallery_style = np.zeros(n, bool), np.zeros(n), np.zeros(n, bool)
    bar = tqdm(photo_queries(test_images, seed), total=n, desc="photo queries", file=sys.stderr, disable=not progress)
    for i, (kind, photo, mask) in enumerate(bar):
        image = Image.fromarray(photo)
        view = normalise_photo(image)
        old[i], new[i], kinds[i] = np.asarray(to_gallery_style(image, 28).image), np.asarray(view.image), kind
        iou[i] = mask_iou(np.asarray(view.query_mask()) > 0, mask)
        found[i], confidence[i] = view.found, view.confidence
        clean_view = normalise_photo(Image.fromarray(test_images[i]))
        clean[i], gallery_style[i] = np.asarray(clean_view.image), clean_view.gallery_style
    return ({"old": old, "normalised": new, "clean": clean, "found": found, "confidence": confidence,
             "gallery_style": gallery_style}, kinds, iou)


def evaluate_pipeline(descriptor, gallery, gallery_labels, photos, clean, labels, kinds, metric,
                      map_queries) -> tuple[dict, dict]:
    index = VectorIndex.build(gallery, np.arange(len(gallery)), gallery_labels, {"checkpoint_id": "evaluation"})
    out, nearest = {}, {}
    for name, images in (("photos", photos), ("clean", clean)):
        vectors = descriptor.describe_arrays(images)
        hits = index.search(vectors, max(KS), metric)
        ap = full_ranking_ap(vectors[:map_queries], labels[:map_queries], gallery, gallery_labels, metric)
        nearest[name] = hits.distances[:, 0]
        out[name] = report_for(hits.labels, labels, ap, np.ones(len(labels), bool), map_queries)
        clean_run = (hits.labels, ap)
        if name == "photos":
            out["by_kind"] = {kind: report_for(hits.labels, labels, ap, kinds == kind, map_queries)
                              for kind in KINDS if (kinds == kind).any()}
            out["held_out"] = report_for(hits.labels, labels, ap, np.isin(kinds, HELD_OUT_KINDS), map_queries)
            out["trained_kinds"] = report_for(hits.labels, labels, ap, np.isin(kinds, TRAIN_KINDS), map_queries)
    return out, nearest, clean_run


def routed_clean(clean_runs: dict, gallery_style: np.ndarray, labels: np.ndarray, map_queries: int) -> dict:
    """The clean queries' figures as photo mode serves them (``photo.services.serving_mode``):
    those already in the gallery's style by the standard descriptor, the rest by the photo one."""
    (standard, standard_ap), (photo, photo_ap) = clean_runs["standard"], clean_runs["photo"]
    retrieved = np.where(gallery_style[:, None], standard, photo)
    ap = np.where(gallery_style[:map_queries], standard_ap, photo_ap)
    report = report_for(retrieved, labels, ap, np.ones(len(labels), bool), map_queries)
    return {**report, "served_by_standard": round(float(gallery_style.mean()), 4)}


def report_for(retrieved, labels, ap, chosen, map_queries) -> dict:
    """P@k, top-k accuracy over the chosen queries; mAP over those of them among the first ``map_queries``."""
    in_map = chosen[:map_queries]
    report = retrieval_report(retrieved[chosen], labels[chosen], ap[in_map] if in_map.any() else np.zeros(1), KS)
    return {key: report[key] for key in ("P@5", "P@10", "top5_accuracy", "mAP", "queries")}


def mask_iou(found: np.ndarray, truth: np.ndarray) -> float:
    return float((found & truth).sum() / max((found | truth).sum(), 1))


def dig(report: dict, dotted: str) -> float:
    section, key = dotted.split(".")
    return report[section][key]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, default=None, help="standard descriptor (default: the serving one)")
    parser.add_argument("--photo-checkpoint", type=Path, default=None,
                        help="photo descriptor (default: retrieval/checkpoints/descriptor-photo.pt)")
    parser.add_argument("--queries", type=positive_int, default=None, help="the first N test images (default: all 10,000)")
    parser.add_argument("--gallery-size", type=positive_int, default=None,
                        help=f"the first N training images (default: all 60,000; at least {max(KS)})")
    parser.add_argument("--metric", choices=METRICS, default="cosine")
    parser.add_argument("--seed", type=int, default=QUERY_SEED, help="seed of the photo queries")
    parser.add_argument("--map-queries", type=positive_int, default=DEFAULT_MAP_QUERIES,
                        help=f"mAP over the first N queries (default {DEFAULT_MAP_QUERIES})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _run(*, checkpoint, photo_checkpoint, queries, gallery_size, metric, seed, map_queries, no_progress=False,
         **_) -> dict:
    if gallery_size is not None and gallery_size < max(KS):
        raise InvalidOptions(f"--gallery-size must be at least {max(KS)} (the largest k)")
    if seed < 0:
        raise InvalidOptions("--seed must be at least 0")
    return photo_evaluate(checkpoint=checkpoint, photo_checkpoint=photo_checkpoint, queries=queries,
                          gallery_size=gallery_size, metric=metric, seed=seed, map_queries=map_queries,
                          progress=not no_progress)


def _render(report: dict) -> str:
    lines = [f"{report['queries']} photo queries (seed {report['seed']}) against {report['gallery']} gallery images, "
             f"{report['metric']}; held out of training: {', '.join(report['held_out_kinds'])}", "",
             f"  {'pipeline':<12}{'set':<16}{'P@5':>8}{'P@10':>8}{'top5':>8}{'mAP':>8}"]
    for name, result in report["results"].items():
        rows = [("photos", result["photos"]), ("held out", result["held_out"]), ("clean", result["clean"])]
        rows += [("clean, alone", result["clean_photo_descriptor"])] if "clean_photo_descriptor" in result else []
        rows += [(kind, row) for kind, row in result["by_kind"].items()]
        for label, row in rows:
            lines.append(f"  {name:<12}{label:<16}{row['P@5']:>8.4f}{row['P@10']:>8.4f}{row['top5_accuracy']:>8.4f}"
                         f"{row['mAP']:>8.4f}")
        lines.append("")
    for name, target in report["targets"].items():
        lines.append(f"{name} >= {target['target']}: {target['value']:.4f} {'met' if target['met'] else 'MISSED'}")
    return "\n".join(lines + [f"{report['seconds']:.0f} s in all"])


TASK = EvaluationTask(name="photo", help="Shop-like photo queries: old pipeline, normalisation, photo descriptor.",
                      add_arguments=_arguments, run=_run, render=_render)
