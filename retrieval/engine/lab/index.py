"""Exact search over one lab descriptor: L1 divided by the number of dimensions (the paper's
distance), L2 and cosine.

L2 and cosine come from the portal's ``VectorIndex`` (FAISS); FAISS has no L1 flat index
worth its overhead at a few thousand items, so L1 is an exact torch ``cdist`` in chunks.
Stored as one ``.npz`` (vectors, ids, labels, provenance), written atomically. An index may
weigh the layers of its descriptor (``meta["layers"]``, ``meta["layer_weights"]``: FC+Conv,
see ``engine.lab.layers``): its vectors are stored weighted, and ``encode`` weighs a raw query
the same way before it is searched.
"""

import json
from pathlib import Path

import numpy as np
import torch

from ..fileio import atomic_path
from ..index import SearchHits, VectorIndex

LAB_METRICS = ("l1", "l2", "cosine")
CHUNK_CELLS = 32_000_000  # query x gallery x dim floats held at once by the L1 search


def l1_distances(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """[q, g] mean absolute difference (L1 / dims)."""
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    g = torch.from_numpy(np.ascontiguousarray(gallery, dtype=np.float32))
    dim = max(1, g.shape[1])
    step = max(1, CHUNK_CELLS // max(1, g.shape[0] * dim))
    out = [torch.cdist(q[i:i + step], g, p=1) / dim for i in range(0, len(q), step)]
    return torch.cat(out).numpy() if out else np.zeros((0, len(g)), np.float32)


class LabIndex:
    def __init__(self, vectors: np.ndarray, ids: np.ndarray, labels: np.ndarray, meta: dict):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.meta = {**meta, "dim": int(self.vectors.shape[1]), "count": len(self.ids)}
        self._faiss = VectorIndex.build(self.vectors, self.ids, self.labels, {"checkpoint_id": meta.get("id", "lab")})
        self._position = {int(i): p for p, i in enumerate(self.ids)}
        self._weights = None
        if meta.get("layer_weights"):
            self._weights = np.ones(self.dim, np.float32)
            for (start, stop), weight in zip(meta["layers"], meta["layer_weights"], strict=True):
                self._weights[start:stop] = weight

    def encode(self, raw: np.ndarray) -> np.ndarray:
        """Raw descriptors [q, dim] (as the extractor gives them) in this index's space."""
        raw = np.atleast_2d(np.asarray(raw, dtype=np.float32))
        return raw if self._weights is None else raw * self._weights

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def vector(self, gallery_id: int) -> np.ndarray:
        return self.vectors[self._position[int(gallery_id)]]

    def search(self, queries: np.ndarray, k: int, metric: str = "l1") -> SearchHits:
        """The nearest ``k`` of each raw query (``encode`` puts them in the index's space)."""
        if metric not in LAB_METRICS:
            raise ValueError(f"unknown metric {metric!r} (choose from {', '.join(LAB_METRICS)})")
        queries = self.encode(queries)
        if metric != "l1":
            return self._faiss.search(queries, k, metric)
        k = max(1, min(int(k), len(self)))
        distances = l1_distances(queries, self.vectors)
        order = np.argsort(distances, axis=1, kind="stable")[:, :k]
        return SearchHits(ids=self.ids[order], distances=np.take_along_axis(distances, order, 1).astype(np.float32),
                          labels=self.labels[order])

    def save(self, path: Path | str) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, vectors=self.vectors, ids=self.ids, labels=self.labels, meta=np.array(json.dumps(self.meta)))

    @classmethod
    def load(cls, path: Path | str) -> "LabIndex":
        with np.load(path, allow_pickle=False) as data:
            return cls(data["vectors"], data["ids"], data["labels"], json.loads(str(data["meta"])))


def read_lab_meta(path: Path | str) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))
