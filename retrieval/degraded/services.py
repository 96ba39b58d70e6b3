"""Degraded queries: one image searched as it is, degraded, and enhanced (Vu's experiment
as a page), with the standard descriptor or the robust one.

The image is degraded at the descriptor's input size (the network's view of it, 28x28 for
Fashion-MNIST), where the paper degrades its queries: a degradation of a large upload would
mostly vanish when it is shrunk for the network. The robust descriptor and the enhancers
are loaded once per process and again only when their checkpoint files change.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from retrieval.core.results import explain_hits
from retrieval.core.runtime import engine, index_path, load_while_unchanged, serving_pair
from retrieval.engine.degraded.degradations import Degradation, degrade, get_degradation, resolved_params
from retrieval.engine.degraded.enhance import Enhancer, load_enhancer
from retrieval.engine.descriptors.cnn import QueryView
from retrieval.engine.errors import EngineError, NotReady
from retrieval.engine.fileio import file_digest
from retrieval.engine.images import DecodedImage, decode_image
from retrieval.engine.index import SearchHits
from retrieval.engine.runtime import SearchPair
from retrieval.galleries.services import background_index_status, index_rebuild
from retrieval.models import Gallery

DESCRIPTOR_MODES = {"standard": "Standard", "robust": "Robust (trained on degraded images)"}
ROWS = {"original": "Original", "degraded": "Degraded", "enhanced": "Enhanced"}


def robust_checkpoint_path() -> Path:
    return Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / settings.RETRIEVAL.get("ROBUST_CHECKPOINT", "descriptor-robust.pt")


def enhancer_checkpoint_paths() -> dict[str, Path]:
    folder = Path(settings.RETRIEVAL["CHECKPOINT_DIR"])
    names = settings.RETRIEVAL.get("ENHANCER_CHECKPOINTS", {"denoiser": "enhancer-denoiser.pt",
                                                            "restorer": "enhancer-restorer.pt"})
    return {kind: folder / name for kind, name in names.items()}


# --- the robust descriptor -----------------------------------------------------------------

def robust_pair(gallery_slug: str) -> SearchPair:
    """The robust descriptor with its own index of the gallery, loaded once (and again when the
    checkpoint changes); NotReady (503) says which command makes what is missing."""
    checkpoint = robust_checkpoint_path()
    if not checkpoint.is_file():
        raise NotReady("The robust descriptor is not trained yet: run `python manage.py train robust_descriptor`.")

    def load() -> SearchPair:
        path = index_path(gallery_slug, file_digest(checkpoint))
        if not path.is_file():
            raise NotReady(_robust_index_missing(gallery_slug, checkpoint))
        return engine().load_pair(checkpoint, path)

    return load_while_unchanged(f"{gallery_slug}:robust", [checkpoint], load)


def _robust_index_missing(gallery_slug: str, checkpoint: Path) -> str:
    """Why the robust index is not there: the server builds it in the background after start-up."""
    status = background_index_status().get(checkpoint.name)
    if status and status["state"] == "building":
        share = f" ({status['done']:,} of {status['total']:,} images)" if status["total"] else ""
        return f"The robust descriptor's index is being built{share}: try again in a minute."
    return (f"The robust descriptor's index of {gallery_slug!r} is not built yet: run "
            f"`python manage.py build_index --checkpoint retrieval/checkpoints/{checkpoint.name}`.")


def descriptor_pair(gallery_slug: str, mode: str) -> SearchPair:
    return robust_pair(gallery_slug) if mode == "robust" else serving_pair(gallery_slug)


def robust_ready(gallery_slug: str) -> bool:
    """Whether the robust descriptor can serve ``gallery_slug`` (trained and indexed)."""
    try:
        robust_pair(gallery_slug)
    except EngineError:
        return False
    return True


def robust_index_rebuild(*, gallery: Gallery, progress=None):
    """Index the gallery with the robust descriptor (skipped when its index is up to date)."""
    checkpoint = robust_checkpoint_path()
    if not checkpoint.is_file():
        raise NotReady("The robust descriptor is not trained yet: run `python manage.py train robust_descriptor`.")
    return index_rebuild(gallery=gallery, checkpoint=checkpoint, progress=progress)


# --- enhancers -----------------------------------------------------------------------------

def enhancers() -> dict[str, Enhancer]:
    """Every trained enhancer by kind (denoiser, restorer); a missing checkpoint is left out."""
    loaded = {}
    for kind, path in enhancer_checkpoint_paths().items():
        enhancer = load_while_unchanged(f"enhancer:{kind}", [path],
                                        lambda path=path: load_enhancer(path, engine().device) if path.is_file() else None)
        if enhancer is not None:
            loaded[kind] = enhancer
    return loaded


def enhancer_for(degradation: str) -> Enhancer | None:
    return next((e for e in enhancers().values() if e.handles(degradation)), None)


# --- the query -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DegradedRow:
    kind: str  # "original", "degraded" or "enhanced"
    image: Image.Image  # greyscale, the descriptor's input size: what was searched
    hits: SearchHits  # one row: ids, distances, labels

    @property
    def title(self) -> str:
        return ROWS[self.kind]


@dataclass(frozen=True)
class DegradedQuery:
    decoded: DecodedImage
    view: QueryView
    degradation: Degradation
    params: dict  # every parameter, random draws included
    seed: int
    descriptor: str  # "standard" or "robust"
    checkpoint_id: str
    enhancer: Enhancer | None
    rows: list[DegradedRow]
    timings_ms: dict[str, float] = field(default_factory=dict)


def degraded_query(*, gallery: Gallery, data: bytes, degradation: str, params: dict, seed: int, k: int,
                   metric: str, descriptor: str = "standard") -> DegradedQuery:
    """Decode the image, bring it to the network's view, degrade it, enhance the degraded image
    (when an enhancer for the degradation is trained), and search all of them at once."""
    pair = descriptor_pair(gallery.slug, descriptor)
    clock = _Clock()
    decoded = decode_image(data, max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
    view = pair.descriptor.view(decoded.image)
    clean = np.asarray(view.image, dtype=np.float32) / 255.0
    clock.lap("decode")
    degraded = degrade(clean, degradation, params, seed=seed)
    clock.lap("degrade")
    enhancer = enhancer_for(degradation)
    images = {"original": clean, "degraded": degraded}
    if enhancer is not None:
        images["enhanced"] = enhancer.enhance(degraded)
        clock.lap("enhance")
    arrays = np.stack([np.rint(image * 255).astype(np.uint8) for image in images.values()])
    vectors = pair.descriptor.describe_arrays(arrays)
    clock.lap("describe")
    hits = pair.index.search(vectors, k, metric)
    clock.lap("search")
    rows = [DegradedRow(kind, Image.fromarray(arrays[i], "L"),
                        SearchHits(ids=hits.ids[i], distances=hits.distances[i], labels=hits.labels[i], method=hits.method))
            for i, kind in enumerate(images)]
    return DegradedQuery(decoded=decoded, view=view, degradation=get_degradation(degradation),
                         params=resolved_params(degradation, params, seed=seed), seed=seed, descriptor=descriptor,
                         checkpoint_id=pair.checkpoint_id, enhancer=enhancer, rows=rows, timings_ms=clock.laps)


@dataclass
class DegradedOutcome:
    """A degraded query with every hit of every row explained (for responses rendered in one piece)."""

    query: DegradedQuery
    gallery: Gallery
    metric: str
    k: int
    results: dict = field(default_factory=dict)  # row kind -> [core.results.ResultItem]


def query_arguments(data: dict) -> dict:
    """A validated ``DegradedQueryForm``'s data as ``degraded_query``'s arguments."""
    names = ("gallery", "degradation", "params", "seed", "k", "metric", "descriptor")
    return {"data": data["image_bytes"], **{name: data[name] for name in names}}


def degraded_search(**arguments) -> DegradedOutcome:
    """``degraded_query`` (same arguments) with every hit of every row explained."""
    outcome = DegradedOutcome(query=degraded_query(**arguments), gallery=arguments["gallery"],
                              metric=arguments["metric"], k=arguments["k"])
    for row, item in explained_rows(outcome.query):
        outcome.results.setdefault(row.kind, []).append(item)
    return outcome


def explained_rows(query: DegradedQuery):
    """Yield (row, result item) for every hit of every row, row by row, each explained by the
    histograms of that row's query image and the result."""
    for row in query.rows:
        for item in explain_hits(row.image, row.hits):
            yield row, item


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self._last = now
