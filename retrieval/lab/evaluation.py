"""`manage.py evaluate lab`: Table I of Staszewski et al. on a portal gallery, leave-one-out.

For every descriptor (``gap``, ``conv``, ``fc``, ``fc_conv``, the colour-histogram baseline
``hist``, and the gallery's trained descriptor where one serves it): the mean histogram
distance of the top 10 results (RGB histograms, or intensity on a greyscale gallery; 25 bins
per channel, L1 / bins), P@10 and mAP by class, and the milliseconds per image that
describing took. ``fc_conv`` is the portal's (every layer weighed alike, ``engine.lab.layers``);
``variants`` holds the paper's raw concatenation and the other ways of combining the layers.
"""

import argparse
import time

import numpy as np

from retrieval.core.evaluation import EvaluationTask, InvalidOptions, positive_int
from retrieval.core.results import open_gallery_image
from retrieval.core.runtime import active_pointer, serving_checkpoint_path
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.lab.colour import MEASURE_BINS, histogram_vectors
from retrieval.engine.lab.evaluation import K, evaluate_descriptors
from retrieval.engine.lab.index import LAB_METRICS
from retrieval.engine.lab.layers import balanced_layers
from retrieval.engine.nets.imagenet import BACKBONES
from retrieval.models import Gallery

from .services import (
    DEFAULT_BACKBONE,
    STAMPS_SLUG,
    default_weights,
    gallery_is_colour,
    gallery_rows,
    lab_extractor,
    lab_indexes_build,
)

# The paper's Table I (mean histogram distance, lower is better) and the targets.
PAPER_TABLE_I = {"codes": 0.250, "fc": 0.254, "conv": 0.217, "fc_conv": 0.189}
TARGET_RATIO, TARGET_P10_SLACK = 0.75, 0.02
VARIANT_NOTES = {
    "fc_conv_raw": "the paper's: FC and Conv concatenated raw, L1 / dims over the whole",
    "fc_conv_two_parts": "FC and Conv each L1 / dims over its mean gallery distance, the two averaged",
    "fc_conv_parts_of_layers": "FC (its layers alike) and Conv (its stages alike) averaged with equal weight",
    "conv_layers": "Conv alone, its five stages weighed alike",
}


def lab_evaluate(*, gallery: str = STAMPS_SLUG, backbone: str = DEFAULT_BACKBONE, metric: str = "l1",
                 limit: int | None = None, trained: bool = True) -> dict:
    started = time.perf_counter()
    record = Gallery.objects.filter(slug=gallery).first()
    if record is None:
        raise InvalidOptions(f"no gallery {gallery!r} (import it first: manage.py import_gallery --folder ... --slug {gallery})")
    rows = gallery_rows(record, limit)
    if len(rows.ids) <= K:
        raise InvalidOptions(f"gallery {gallery!r} has {len(rows.ids)} images: leave-one-out top-{K} needs more than {K}")
    indexes = lab_indexes_build(gallery=record, backbone=backbone, limit=limit)
    vectors = {name: index.vectors for name, index in indexes.items()}
    ms = {name: index.meta["ms_per_image"] for name, index in indexes.items()}
    colour = gallery_is_colour(rows)
    images = [open_gallery_image(name) for name in rows.files]
    histograms = histogram_vectors(images, colour=colour, bins=MEASURE_BINS)
    if trained and _has_trained_descriptor(record):
        t0 = time.perf_counter()
        descriptor = load_descriptor(serving_checkpoint_path(gallery))
        vectors["trained"] = descriptor.describe_images(images)
        ms["trained"] = round(1000 * (time.perf_counter() - t0) / len(images), 2)
    reports = evaluate_descriptors(vectors, rows.labels, histograms, metric=metric)
    for name, report in reports.items():
        report["ms_per_image"], report["dim"] = ms[name], int(vectors[name].shape[1])
    combined = variant_vectors(vectors["fc"], vectors["conv"], lab_extractor(backbone, default_weights(backbone)).layer_dims())
    variants = {name: evaluate_descriptors({name: v}, rows.labels, histograms, metric=metric)[name]
                | {"dim": int(v.shape[1]), "note": VARIANT_NOTES[name]} for name, v in combined.items()}
    return {
        "task": "lab", "gallery": gallery, "backbone": backbone, "weights_id": indexes["gap"].meta["weights_id"],
        "metric": metric, "k": K, "images": len(rows.ids), "histograms": f"{'RGB' if colour else 'intensity'}, "
        f"{MEASURE_BINS} bins per channel, L1 / bins", "descriptors": reports, "variants": variants,
        "paper_table_i": PAPER_TABLE_I, "target": target_check(reports),
        "seconds": round(time.perf_counter() - started, 2),
    }


def variant_vectors(fc, conv, layer_dims: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The other combinations of the layers (``VARIANT_NOTES``), from the raw FC and Conv vectors."""
    raw = np.concatenate([fc, conv], axis=1)
    fc_layers, conv_layers = len(layer_dims) - 5, 5
    parts = [0.5 / fc_layers] * fc_layers + [0.5 / conv_layers] * conv_layers
    return {"fc_conv_raw": raw, "fc_conv_two_parts": balanced_layers(raw, (fc.shape[1], conv.shape[1]))[0],
            "fc_conv_parts_of_layers": balanced_layers(raw, layer_dims, shares=parts)[0],
            "conv_layers": balanced_layers(conv, layer_dims[fc_layers:])[0]}


def _has_trained_descriptor(gallery: Gallery) -> bool:
    """A trained checkpoint serves the gallery: an activated run, or the committed default where the
    gallery has no lab default (Fashion-MNIST), and the checkpoint file is there."""
    if active_pointer(gallery.slug):
        return True
    return not gallery.default_descriptor.startswith("lab:") and serving_checkpoint_path(gallery.slug).exists()


def target_check(reports: dict) -> dict:
    fc, fc_conv = reports["fc"], reports["fc_conv"]
    ratio = fc_conv["histogram_distance"] / max(fc["histogram_distance"], 1e-12)
    p10 = f"P@{K}"
    check = {"ratio": round(ratio, 4), "ratio_target": TARGET_RATIO, "ratio_met": ratio <= TARGET_RATIO}
    if p10 in fc:
        check.update({"p10_drop": round(fc[p10] - fc_conv[p10], 4), "p10_met": fc_conv[p10] >= fc[p10] - TARGET_P10_SLACK})
    check["met"] = check["ratio_met"] and check.get("p10_met", True)
    return check


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gallery", default=STAMPS_SLUG, help=f"gallery slug (default {STAMPS_SLUG})")
    parser.add_argument("--backbone", choices=BACKBONES.names(), default=DEFAULT_BACKBONE)
    parser.add_argument("--metric", choices=LAB_METRICS, default="l1",
                        help="descriptor distance (default: the paper's L1 / dims)")
    parser.add_argument("--limit", type=positive_int, default=None, help="only the first N gallery images (not stored)")
    parser.add_argument("--no-trained", dest="trained", action="store_false", help="leave out the trained descriptor")


def _run(*, gallery: str, backbone: str, metric: str, limit: int | None, trained: bool, **_) -> dict:
    return lab_evaluate(gallery=gallery, backbone=backbone, metric=metric, limit=limit, trained=trained)


def _render(report: dict) -> str:
    p10 = f"P@{report['k']}"
    header = f"{'descriptor':<26}{'hist dist':>10}{p10:>8}{'mAP':>8}{'ms/img':>8}{'dim':>7}{'paper':>8}"
    lines = [f"{report['gallery']}: {report['images']} images, {report['backbone']}, {report['metric']} distance; "
             f"histograms {report['histograms']}", "", header]
    for section in ("descriptors", "variants"):
        for name, r in report[section].items():
            paper = report["paper_table_i"].get(name)
            lines.append(f"{name:<26}{r['histogram_distance']:>10.4f}{r.get(p10, np.nan):>8.4f}{r.get('mAP', np.nan):>8.4f}"
                         f"{r.get('ms_per_image', np.nan):>8.1f}{r.get('dim', 0):>7}{'' if paper is None else paper:>8}")
    t = report["target"]
    lines += ["", f"fc_conv / fc histogram distance {t['ratio']} (target <= {t['ratio_target']}): "
              f"{'met' if t['met'] else 'MISSED'}; {report['seconds']:.1f} s"]
    return "\n".join(lines)


TASK = EvaluationTask(name="lab", help="Descriptor lab (Staszewski et al. Table I): colour closeness, P@10, mAP per descriptor.",
                      add_arguments=_arguments, run=_run, render=_render)
