"""Sketch search: making the sketch-image pairs, and the sketch query itself."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from django.conf import settings

from retrieval.core.results import explain_hits
from retrieval.core.runtime import engine, load_while_unchanged, serving_pair
from retrieval.engine.data import fashion_mnist
from retrieval.engine.errors import EngineError, NotReady
from retrieval.engine.images import decode_image
from retrieval.engine.runtime import SearchPair
from retrieval.engine.sketch.pairs import EDGE_METHODS, SketchPairs, extract_edges, load_pairs, pairs_path, save_pairs
from retrieval.engine.sketch.search import (
    SKETCH_MODES,
    SketchEncoder,
    SketchGenerator,
    SketchModels,
    SketchQueryResult,
    search_sketch,
)
from retrieval.models import Gallery

log = logging.getLogger(__name__)

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
                from retrieval.engine.sketch.edges import HEDEdges

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
    results: list  # core.results.ResultItem, closest first


def sketch_search(*, gallery: Gallery, data: bytes, mode: str, k: int, metric: str) -> SketchOutcome:
    """``sketch_query`` with its hits explained against the image the results are compared
    with (the GAN's image when there is one, else the sketch as the models saw it)."""
    query = sketch_query(gallery=gallery, data=data, mode=mode, k=k, metric=metric)
    return SketchOutcome(gallery=gallery, query=query, metric=metric, k=k,
                         results=list(explain_hits(query.explained_image, query.hits, gallery)))


def sketch_query(*, gallery: Gallery, data: bytes, mode: str, k: int, metric: str) -> SketchQueryResult:
    """Decode a drawing (PNG bytes, any size), normalise it, turn it into a descriptor the
    ``mode``'s way and search the gallery. Engine errors (BlankSketch, InvalidImage,
    NotReady for an untrained mode ...) propagate to the edge."""
    started = time.perf_counter()
    decoded = decode_image(data, max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
    decode_ms = round((time.perf_counter() - started) * 1000, 2)
    result = search_sketch(serving_pair(gallery.slug), sketch_models(), decoded, mode=mode, k=k, metric=metric)
    return replace(result, timings_ms={"decode": decode_ms, **result.timings_ms})


def sketch_checkpoint_paths() -> dict[str, Path]:
    folder = Path(settings.RETRIEVAL["CHECKPOINT_DIR"])
    return {"generator": folder / settings.RETRIEVAL["SKETCH_GAN_CHECKPOINT"],
            "encoder": folder / settings.RETRIEVAL["SKETCH_ENCODER_CHECKPOINT"]}


def sketch_models() -> SketchModels:
    """The sketch GAN and encoder this process serves with; a missing one disables its mode."""
    paths = sketch_checkpoint_paths()

    def load() -> SketchModels:
        device = engine().device
        try:
            return SketchModels(
                generator=SketchGenerator.load(paths["generator"], device) if paths["generator"].is_file() else None,
                encoder=SketchEncoder.load(paths["encoder"], device) if paths["encoder"].is_file() else None)
        except Exception as error:  # noqa: BLE001 - any unreadable checkpoint: say which, serve nothing broken
            raise NotReady(f"A sketch checkpoint in {paths['generator'].parent} cannot be loaded "
                           f"({type(error).__name__}: {error}); train it again.") from error

    return load_while_unchanged("sketch-models", list(paths.values()), load)


def warm_sketch_models(pair: SearchPair) -> None:
    """Load the sketch models and read one drawing: the first sketch query would otherwise pay
    for imports (scikit-image's thinning tables) and lazy allocations, a third of a second."""
    from PIL import Image

    from retrieval.engine.sketch.normalise import sketch_view

    try:
        models = sketch_models()
    except NotReady as error:
        log.warning("sketch models not warmed: %s", error)
        return
    drawing = Image.new("L", (64, 64), 255)
    drawing.paste(0, (16, 16, 48, 20))
    ink = sketch_view(drawing, pair.descriptor.input_size).ink[None]
    for model in (models.generator, models.encoder):
        if model is not None:
            model(ink)
