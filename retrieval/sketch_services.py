"""Sketch search: making the sketch-image pairs, and the sketch query itself."""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from django.conf import settings

from .engine.data import fashion_mnist
from .engine.errors import EngineError
from .engine.images import decode_image
from .engine.sketch.pairs import EDGE_METHODS, SketchPairs, extract_edges, load_pairs, pairs_path, save_pairs
from .engine.sketch.search import SKETCH_MODES, SketchQueryResult, search_sketch
from .models import Gallery
from .runtime import serving_pair, sketch_models
from .services import explain_hits

Progress = Callable[[int, int], None]


def sketch_dir() -> Path:
    return Path(settings.RETRIEVAL["DATASETS"]["sketch-pairs"])


def sketch_pairs_make(*, methods: tuple[str, ...] = EDGE_METHODS, splits: tuple[str, ...] = ("train", "test"),
                      limit: int | None = None, force: bool = False,
                      progress: Callable[[str], Progress] | None = None) -> list[Path]:
    """Edge maps of Fashion-MNIST's splits, one cached file per (method, split); a file made
    from the same images is kept unless ``force``. ``progress(label)`` gives a progress callback."""
    written = []
    hed = None
    for split in splits:
        images, labels = fashion_mnist.load_split(settings.RETRIEVAL["FASHION_MNIST_DIR"], split, limit=limit)
        for method in methods:
            path = pairs_path(sketch_dir(), method, split)
            if not force and _up_to_date(method, split, len(images)):
                continue
            if method == "hed" and hed is None:
                from .engine.sketch.edges import HEDEdges

                hed = HEDEdges()
            edges = extract_edges(images, method, hed=hed, progress=progress(f"{method} {split}") if progress else None)
            save_pairs(path, SketchPairs(images=images, edges=edges, labels=labels.astype(np.int64),
                                         source_indices=np.arange(len(images), dtype=np.int64),
                                         meta={"method": method, "split": split, "count": len(images)}))
            written.append(path)
    return written


def _up_to_date(method: str, split: str, count: int) -> bool:
    try:
        return load_pairs(sketch_dir(), method, split).meta.get("count") == count
    except (FileNotFoundError, ValueError, KeyError, OSError):
        return False


# --- the sketch query ------------------------------------------------------------------

def sketch_modes(gallery_slug: str | None = None) -> list[dict]:
    """Every retrieval mode with whether it can run now, and why not (for the page and the API)."""
    slug = gallery_slug or settings.RETRIEVAL["DEFAULT_GALLERY"]
    try:
        models = sketch_models()
        descriptor = serving_pair(slug).descriptor
    except EngineError as error:
        return [{"name": m.name, "title": m.title, "description": m.description, "available": False,
                 "reason": str(error)} for m in SKETCH_MODES.values()]
    out = []
    for mode in SKETCH_MODES.values():
        reason = models.available(mode.name, descriptor)
        out.append({"name": mode.name, "title": mode.title, "description": mode.description,
                    "available": reason is None, "reason": reason or ""})
    return out


def default_sketch_mode() -> str:
    return settings.RETRIEVAL["DEFAULT_SKETCH_MODE"]


@dataclass(frozen=True)
class SketchOutcome:
    """A sketch query with every hit explained (for responses rendered in one piece)."""

    gallery: Gallery
    query: SketchQueryResult
    metric: str
    k: int
    results: list  # services.ResultItem, closest first


def sketch_search(*, gallery: Gallery, data: bytes, mode: str, k: int, metric: str) -> SketchOutcome:
    """``sketch_query`` with its hits explained against the image the results are compared
    with (the GAN's image when there is one, else the sketch as the models saw it)."""
    query = sketch_query(gallery=gallery, data=data, mode=mode, k=k, metric=metric)
    return SketchOutcome(gallery=gallery, query=query, metric=metric, k=k,
                         results=list(explain_hits(query.explained_image, query.hits)))


def sketch_query(*, gallery: Gallery, data: bytes, mode: str, k: int, metric: str) -> SketchQueryResult:
    """Decode a drawing (PNG bytes, any size), normalise it, turn it into a descriptor the
    ``mode``'s way and search the gallery. Engine errors (BlankSketch, InvalidImage,
    NotReady for an untrained mode ...) propagate to the edge."""
    started = time.perf_counter()
    decoded = decode_image(data, max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
    decode_ms = round((time.perf_counter() - started) * 1000, 2)
    result = search_sketch(serving_pair(gallery.slug), sketch_models(), decoded, mode=mode, k=k, metric=metric)
    return replace(result, timings_ms={"decode": decode_ms, **result.timings_ms})
