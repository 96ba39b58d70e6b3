"""A 2-d map of a gallery in one descriptor's space: PCA (numpy SVD), fitted once per
(gallery, descriptor) and stored beside the index, so a query is placed on it by one product.

Cost is bounded whatever the gallery's size: the principal axes are fitted on at most
``FIT_ROWS`` rows and the map keeps at most ``MAP_POINTS`` points (a seeded sample, the same
on every run); projecting the rest, or a query, is a matrix product.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import atomic_path

FIT_ROWS = 2_000  # rows the SVD sees: 2,000 x 9,664 (VGG16's fc_conv) is about a second
MAP_POINTS = 5_000  # points a browser draws
SEED = 0


@dataclass(frozen=True)
class Embedding:
    mean: np.ndarray  # [dim] float32
    axes: np.ndarray  # [2, dim] float32: the first two principal directions
    points: np.ndarray  # [n, 2] float32: the mapped gallery items (all of them, or a sample)
    ids: np.ndarray  # [n] int64: their gallery ids
    labels: np.ndarray  # [n] int64: their classes, -1 unlabelled
    meta: dict  # method, explained variance, the index's provenance, sizes

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """[q, dim] -> [q, 2]: where the vectors fall on the map."""
        return ((np.atleast_2d(vectors).astype(np.float32) - self.mean) @ self.axes.T).astype(np.float32)

    def save(self, path: Path | str) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, mean=self.mean, axes=self.axes, points=self.points, ids=self.ids, labels=self.labels,
                     meta=np.array(json.dumps(self.meta)))

    @classmethod
    def load(cls, path: Path | str) -> "Embedding":
        with np.load(path, allow_pickle=False) as data:
            return cls(data["mean"], data["axes"], data["points"], data["ids"], data["labels"],
                       json.loads(str(data["meta"])))


def _sample(n: int, size: int) -> np.ndarray:
    """Sorted row numbers of a seeded sample of ``size`` of ``n`` rows (all of them when fewer)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(SEED).choice(n, size, replace=False))


def pca_embedding(vectors: np.ndarray, ids: np.ndarray, labels: np.ndarray, meta: dict | None = None, *,
                  fit_rows: int = FIT_ROWS, map_points: int = MAP_POINTS) -> Embedding:
    """The first two principal axes of ``vectors`` [n, dim] and the gallery mapped onto them.

    Axis signs are fixed (the largest loading positive), so a rebuild draws the same picture."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = x.shape
    if n == 0:
        raise ValueError("an embedding needs at least one vector")
    fit = x[_sample(n, fit_rows)].astype(np.float64)
    mean = fit.mean(axis=0)
    centred = fit - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    axes = np.zeros((2, dim))
    axes[:min(2, len(vt))] = vt[:2]
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    axes *= np.where(signs == 0, 1, signs)[:, None]
    variance = singular ** 2
    explained = (variance[:2] / variance.sum()).tolist() if variance.sum() > 0 else [0.0, 0.0]
    keep = _sample(n, map_points)
    embedding = Embedding(mean.astype(np.float32), axes.astype(np.float32), np.zeros((0, 2), np.float32),
                          np.asarray(ids, np.int64)[keep], np.asarray(labels, np.int64)[keep], {})
    points = embedding.project(x[keep])
    info = {"method": "pca", "explained_variance": [round(float(v), 4) for v in explained + [0.0] * (2 - len(explained))],
            "fit_rows": len(fit), "gallery_items": n, "points": len(keep), "dim": dim}
    return Embedding(embedding.mean, embedding.axes, points, embedding.ids, embedding.labels, {**(meta or {}), **info})
