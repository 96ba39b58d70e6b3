"""FAISS vector index with its gallery ids, labels and provenance, stored as one file.

The file is written atomically and carries the identity of the checkpoint whose
descriptors it holds; ``VectorIndex.load`` refuses to pair it with another checkpoint.
FAISS indexes are not safe to add to while searching, so an index is never mutated after
``build``: a rebuilt index is a new object that the runtime swaps in.

Search is exact (a flat scan) unless ``build_graphs`` has been called: the server calls it
for big galleries, in the background, and then answers from an HNSW graph (about a tenth of
a millisecond instead of one for 60,000 items; ``bench/search_latency.py`` reports its
recall@10 against the exact scan). Evaluations build their own indexes and stay exact.
"""

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .config import METRICS
from .errors import IndexMismatch
from .fileio import atomic_path

FORMAT_VERSION = 1
GRAPH_MIN_ITEMS = 20_000  # below this an exact scan takes well under a millisecond: no graph
GRAPH_LINKS = 32  # HNSW's M: measured recall@10 0.998 at ef 64 on Fashion-MNIST (M 16: 0.985)
GRAPH_EF_CONSTRUCTION = 40
GRAPH_EF_SEARCH = 64  # at least twice k is used for larger k


@dataclass(frozen=True)
class SearchHits:
    ids: np.ndarray  # [n, k] gallery ids
    distances: np.ndarray  # [n, k]; L2 distance, or 1 - cosine similarity
    labels: np.ndarray  # [n, k]
    method: str = "exact"  # "hnsw" when an HNSW graph answered (approximate), else an exact scan


def first_row(hits: SearchHits) -> SearchHits:
    """The hits of the first (usually only) query, as 1-d arrays."""
    return SearchHits(ids=hits.ids[0], distances=hits.distances[0], labels=hits.labels[0], method=hits.method)


class VectorIndex:
    def __init__(self, flat_l2: faiss.Index, ids: np.ndarray, labels: np.ndarray, meta: dict, *, gpu: bool = False):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.meta = dict(meta)
        self._vectors = flat_l2.reconstruct_n(0, flat_l2.ntotal) if flat_l2.ntotal else np.zeros((0, flat_l2.d), np.float32)
        self._position = {int(i): p for p, i in enumerate(self.ids)}
        normalised = self._vectors.copy()
        faiss.normalize_L2(normalised)
        flat_ip = faiss.IndexFlatIP(flat_l2.d)
        flat_ip.add(normalised)
        self._cpu = {"l2": flat_l2, "cosine": flat_ip}
        self._search_index = {m: _maybe_to_gpu(ix) if gpu else ix for m, ix in self._cpu.items()}
        self._gpu, self._graphs, self._graph_lock = gpu, {}, threading.Lock()

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray, labels: np.ndarray, meta: dict, *, gpu: bool = False) -> "VectorIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not (len(vectors) == len(ids) == len(labels)):
            raise ValueError("vectors, ids and labels must have the same length")
        flat = faiss.IndexFlatL2(vectors.shape[1])
        flat.add(vectors)
        return cls(flat, ids, labels, {**meta, "dim": int(vectors.shape[1]), "count": int(len(vectors))}, gpu=gpu)

    @property
    def checkpoint_id(self) -> str:
        return self.meta["checkpoint_id"]

    @property
    def dim(self) -> int:
        return self._cpu["l2"].d

    def __len__(self) -> int:
        return len(self.ids)

    def build_graphs(self) -> bool:
        """Build the HNSW graphs that approximate search answers from (one per metric), unless
        the index is small or on a GPU (where the flat scan is fast). Safe while searching:
        the graphs are swapped in at once when both are built. True when graphs are in use."""
        if self._gpu or len(self) < GRAPH_MIN_ITEMS:
            return False
        with self._graph_lock:  # one build, however many callers
            if not self._graphs:
                self._graphs = self._new_graphs()
        return True

    def _new_graphs(self) -> dict:
        graphs = {}
        for metric, flat in self._cpu.items():
            kind = faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2
            graph = faiss.IndexHNSWFlat(self.dim, GRAPH_LINKS, kind)
            graph.hnsw.efConstruction = GRAPH_EF_CONSTRUCTION
            graph.add(flat.reconstruct_n(0, flat.ntotal))
            graphs[metric] = graph
        return graphs

    @property
    def search_method(self) -> str:
        return "hnsw" if self._graphs else "exact"

    def search(self, queries: np.ndarray, k: int, metric: str = "l2", *, exact: bool = False) -> SearchHits:
        """The k nearest items to each query; ``exact`` scans every vector even where a graph exists."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r} (choose from {', '.join(METRICS)})")
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0:
            empty = np.zeros((len(queries), 0))
            return SearchHits(ids=empty.astype(np.int64), distances=empty.astype(np.float32), labels=empty.astype(np.int64))
        k = max(1, min(int(k), len(self)))
        if metric == "cosine":
            queries = queries.copy()
            faiss.normalize_L2(queries)
        graph = None if exact else self._graphs.get(metric)
        if graph is not None:
            params = faiss.SearchParametersHNSW(efSearch=max(GRAPH_EF_SEARCH, 2 * k))
            scores, positions = graph.search(queries, k, params=params)
        else:
            scores, positions = self._search_index[metric].search(queries, k)
        valid = positions >= 0
        positions = np.where(valid, positions, 0)
        distances = np.sqrt(np.maximum(scores, 0)) if metric == "l2" else 1.0 - scores
        return SearchHits(ids=self.ids[positions], distances=distances.astype(np.float32), labels=self.labels[positions],
                          method="exact" if graph is None else "hnsw")

    def vector(self, gallery_id: int) -> np.ndarray:
        """The stored descriptor of one gallery item (KeyError when it is not indexed)."""
        return self._vectors[self._position[int(gallery_id)]]

    def __contains__(self, gallery_id: int) -> bool:
        return int(gallery_id) in self._position

    def save(self, path: Path | str) -> None:
        blob = faiss.serialize_index(self._cpu["l2"])
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, index=blob, ids=self.ids, labels=self.labels,
                     meta=np.array(json.dumps({**self.meta, "format": FORMAT_VERSION})))

    @classmethod
    def load(cls, path: Path | str, *, expect_checkpoint: str | None = None, gpu: bool = False) -> "VectorIndex":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if expect_checkpoint is not None and meta.get("checkpoint_id") != expect_checkpoint:
                raise IndexMismatch(
                    f"index {Path(path).name} was built by checkpoint {meta.get('checkpoint_id')}, "
                    f"not by the loaded checkpoint {expect_checkpoint}: rebuild the index"
                )
            flat = faiss.deserialize_index(data["index"])
            return cls(flat, data["ids"], data["labels"], meta, gpu=gpu)


def _maybe_to_gpu(index: faiss.Index) -> faiss.Index:
    from .devices import faiss_has_gpu

    if not faiss_has_gpu():
        return index
    return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)


def read_index_meta(path: Path | str) -> dict:
    """Provenance of a stored index without loading its vectors into FAISS."""
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))
