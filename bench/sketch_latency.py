"""Server-side latency of one sketch query, per retrieval mode: decode the canvas PNG,
normalise the drawing, run the mode's network(s), search the 60,000-image gallery.

    .venv/bin/python bench/sketch_latency.py [--sketches 300] [--threads 1] [--json]

The sketches are drawn-looking test sketches (HED edge maps of Fashion-MNIST test images
with the stroke augmentation at the evaluation's seed), rendered as the page's canvas
exports them: 280 x 280 RGBA, black ink on white, a pen several pixels wide. Each query goes
through ``sketch.services.sketch_query``, the call the page, the API and the websocket make
(it also runs the GAN for the "what the portal thinks you drew" preview in every mode).
Needs `make_sketch_pairs`, the sketch checkpoints and the gallery set up (`make run`).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from PIL import Image, ImageFilter, ImageOps  # noqa: E402

from bench.common import log, summarise  # noqa: E402
from bench.search_latency import machine_info, with_target  # noqa: E402
from retrieval.core.runtime import serving_pair  # noqa: E402
from retrieval.engine.devices import set_compute_threads  # noqa: E402
from retrieval.engine.images import encode_png  # noqa: E402
from retrieval.engine.sketch.pairs import load_pairs, sketch_queries  # noqa: E402
from retrieval.engine.sketch.search import SKETCH_MODES  # noqa: E402
from retrieval.models import Gallery  # noqa: E402
from retrieval.sketch.services import sketch_dir, sketch_modes, sketch_query  # noqa: E402

TARGET_P50_MS = 30.0
CANVAS = 280


def canvas_pngs(count: int) -> list[bytes]:
    """Test sketches as canvas exports: upscaled, pen widened, inverted to ink on paper, RGBA."""
    edges = load_pairs(sketch_dir(), "hed", "test").edges[:count]
    pngs = []
    for sketch in sketch_queries(edges):
        ink = Image.fromarray(sketch, "L").resize((CANVAS, CANVAS), Image.Resampling.BILINEAR)
        ink = ink.filter(ImageFilter.MaxFilter(5))
        pngs.append(encode_png(ImageOps.invert(ink).convert("RGBA")))
    return pngs


def mode_latency(gallery: Gallery, pngs: list[bytes], mode: str, *, k: int, metric: str, warmup: int = 20) -> dict:
    for data in pngs[:warmup]:
        sketch_query(gallery=gallery, data=data, mode=mode, k=k, metric=metric)
    stages = {"decode": [], "normalise": [], "describe": [], "search": [], "total": []}
    for data in pngs:
        started = time.perf_counter()
        result = sketch_query(gallery=gallery, data=data, mode=mode, k=k, metric=metric)
        stages["total"].append((time.perf_counter() - started) * 1000)
        for stage in ("decode", "normalise", "describe", "search"):
            stages[stage].append(result.timings_ms[stage])
    section = {"queries": len(pngs), "ms": {stage: summarise(v) for stage, v in stages.items()}}
    return with_target(section, section["ms"]["total"]["p50"], TARGET_P50_MS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sketches", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--metric", choices=("l2", "cosine"), default="cosine")
    parser.add_argument("--threads", type=int, default=settings.RETRIEVAL["SERVER_THREADS"],
                        help="torch and FAISS threads (default: the server's setting)")
    parser.add_argument("--json", action="store_true", help="print the report on one line")
    args = parser.parse_args()
    set_compute_threads(args.threads)
    slug = settings.RETRIEVAL["DEFAULT_GALLERY"]
    gallery = Gallery.objects.get(slug=slug)
    pair = serving_pair(slug)
    report = {"machine": machine_info(), "threads": args.threads, "k": args.k, "metric": args.metric,
              "canvas_px": CANVAS, "gallery_items": len(pair.index), "checkpoint_id": pair.checkpoint_id, "modes": {}}
    pngs = canvas_pngs(args.sketches)
    for mode in sketch_modes(slug):
        if not mode["available"]:
            report["modes"][mode["name"]] = {"unavailable": mode["reason"]}
            continue
        log(f"{mode['name']}: {len(pngs)} sketch queries against {len(pair.index)} items")
        report["modes"][mode["name"]] = mode_latency(gallery, pngs, mode["name"], k=args.k, metric=args.metric)
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    assert set(report["modes"]) == set(SKETCH_MODES)
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
