"""The process-wide engine state: descriptor/index pairs loaded once and reused by every request.

A ``SearchPair`` is immutable and always consistent (its index was built by its
descriptor's checkpoint). Swapping in a new checkpoint builds the new pair aside and
replaces the reference in one step under a lock, so a search sees either the old pair or
the new one, never a mix. Searches take no lock: they read one reference and use it.
"""

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .descriptors import load_descriptor
from .descriptors.cnn import QueryView
from .devices import faiss_has_gpu, resolve_device
from .errors import IndexMismatch, NotReady
from .images import DEFAULT_MAX_PIXELS, DecodedImage, decode_image
from .index import SearchHits, VectorIndex, first_row


@dataclass(frozen=True)
class SearchPair:
    descriptor: object  # a descriptor family instance (e.g. CNNDescriptor)
    index: VectorIndex
    checkpoint_path: str
    index_path: str

    def __post_init__(self):
        if self.descriptor.checkpoint_id != self.index.checkpoint_id:
            raise IndexMismatch(
                f"index {self.index_path} belongs to checkpoint {self.index.checkpoint_id}, "
                f"not {self.descriptor.checkpoint_id}"
            )
        if self.index.meta.get("features") != self.descriptor.features:
            raise IndexMismatch(
                f"index {self.index_path} holds {self.index.meta.get('features')!r} features, but the descriptor "
                f"makes {self.descriptor.features!r}: rebuild the index"
            )

    @property
    def checkpoint_id(self) -> str:
        return self.descriptor.checkpoint_id


@dataclass(frozen=True)
class QueryResult:
    decoded: DecodedImage
    view: QueryView  # the query as the network saw it
    hits: SearchHits  # one row: ids, distances, labels of the top k
    checkpoint_id: str
    timings_ms: dict[str, float]


class Runtime:
    def __init__(self, device: torch.device, faiss_gpu: bool):
        self.device, self.faiss_gpu = device, faiss_gpu
        self._pairs: dict[str, SearchPair] = {}
        self._lock = threading.Lock()
        self.graph_search = False  # servers turn it on: big indexes then search an HNSW graph

    def enable_graph_search(self) -> None:
        """From now on every installed pair's index builds its search graphs in the background
        (``VectorIndex.build_graphs``); searches stay exact until they are ready."""
        self.graph_search = True
        for pair in list(self._pairs.values()):
            _build_graphs_later(pair.index)

    def load_pair(self, checkpoint_path: Path | str, index_path: Path | str) -> SearchPair:
        """Load a descriptor and its index without touching what is being served."""
        descriptor = load_descriptor(checkpoint_path, self.device)
        index = VectorIndex.load(index_path, expect_checkpoint=descriptor.checkpoint_id, gpu=self.faiss_gpu)
        return SearchPair(descriptor, index, str(checkpoint_path), str(index_path))

    def install(self, key: str, pair: SearchPair) -> SearchPair | None:
        """Serve ``pair`` for ``key`` from now on; returns the pair it replaced."""
        with self._lock:
            previous = self._pairs.get(key)
            self._pairs[key] = pair
        if self.graph_search:
            _build_graphs_later(pair.index)
        return previous

    def pair(self, key: str) -> SearchPair:
        try:
            return self._pairs[key]
        except KeyError:
            raise NotReady(f"The search index for {key!r} is not built yet.") from None

    def has(self, key: str) -> bool:
        return key in self._pairs

    def search_bytes(self, key: str, data: bytes, *, k: int, metric: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> QueryResult:
        started = time.perf_counter()
        decoded = decode_image(data, max_pixels=max_pixels)
        decode_ms = (time.perf_counter() - started) * 1000
        result = self.search_image(key, decoded, k=k, metric=metric)
        return QueryResult(**{**result.__dict__, "timings_ms": {"decode": round(decode_ms, 2), **result.timings_ms}})

    def search_image(self, key: str, decoded: DecodedImage, *, k: int, metric: str) -> QueryResult:
        return search_pair(self.pair(key), decoded, k=k, metric=metric)  # one read: one consistent pair

    def neighbours(self, key: str, gallery_id: int, *, k: int, metric: str) -> SearchHits:
        """The k nearest gallery items to an indexed item, itself excluded."""
        pair = self.pair(key)
        if gallery_id not in pair.index:
            raise KeyError(gallery_id)
        hits = first_row(pair.index.search(pair.index.vector(gallery_id)[None], k + 1, metric))
        keep = hits.ids != gallery_id
        return SearchHits(ids=hits.ids[keep][:k], distances=hits.distances[keep][:k], labels=hits.labels[keep][:k],
                          method=hits.method)

    def describe(self, key: str, images: list[Image.Image]) -> np.ndarray:
        return self.pair(key).descriptor.describe_images(images)


def search_pair(pair: SearchPair, decoded: DecodedImage, image: Image.Image | None = None, *, k: int,
                metric: str) -> QueryResult:
    """Describe and search one query through one pair. ``image`` replaces the decoded image
    where the caller has a better one (an upload's cut-out with its alpha channel as the mask)."""
    t0 = time.perf_counter()
    view = pair.descriptor.view(decoded.image if image is None else image)
    vector = pair.descriptor.describe_arrays(np.asarray(view.image)[None])
    t1 = time.perf_counter()
    hits = pair.index.search(vector, k, metric)
    t2 = time.perf_counter()
    return QueryResult(decoded=decoded, view=view, hits=first_row(hits), checkpoint_id=pair.checkpoint_id,
                       timings_ms={"describe": round((t1 - t0) * 1000, 2), "search": round((t2 - t1) * 1000, 2)})


def _build_graphs_later(index: VectorIndex) -> threading.Thread:
    thread = threading.Thread(target=index.build_graphs, name="index-graphs", daemon=True)
    thread.start()
    return thread


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime(device: str = "auto") -> Runtime:
    """The process's one Runtime, created on first use (safe to call from any thread)."""
    global _runtime
    if _runtime is None:
        with _runtime_lock:
            if _runtime is None:
                _runtime = Runtime(resolve_device(device), faiss_has_gpu())
    return _runtime


def reset_runtime() -> None:
    """Forget every loaded pair (tests, and processes that switch data directories)."""
    global _runtime
    with _runtime_lock:
        _runtime = None
