"""Table I of Staszewski et al., reproduced and extended: leave-one-out over a gallery.

Every gallery image is a query against all the others. Per descriptor: the mean, over the
queries, of the mean histogram distance (L1 / bins) between the query and its top k
results (lower is closer in colour; the paper's measure), and by class P@k and mAP over the
whole ranking. Pure numpy/torch: callers describe the images.
"""

import numpy as np
import torch

from ..evaluation import average_precisions
from .index import l1_distances

K = 10


def distance_matrix(vectors: np.ndarray, metric: str) -> np.ndarray:
    """All pairs [n, n], lower is nearer: L1 / dims, L2 or 1 - cosine."""
    if metric == "l1":
        return l1_distances(vectors, vectors)
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    if metric == "l2":
        return torch.cdist(x, x).numpy()
    if metric == "cosine":
        x = torch.nn.functional.normalize(x, dim=1)
        return (1 - x @ x.T).numpy()
    raise ValueError(f"unknown metric {metric!r}")


def leave_one_out(distances: np.ndarray, labels: np.ndarray, histograms: np.ndarray, k: int = K) -> dict:
    """The measures of one descriptor from its [n, n] distances; ``labels`` -1 = unlabelled."""
    n = len(distances)
    if n <= k:
        raise ValueError(f"leave-one-out with k={k} needs more than {k} images, the gallery has {n}")
    distances = np.array(distances, dtype=np.float64)
    np.fill_diagonal(distances, np.inf)  # the query itself ranks last, and is then dropped
    order = np.argsort(distances, axis=1, kind="stable")[:, :-1]
    top = order[:, :k]
    hist = np.abs(histograms[:, None, :] - histograms[top]).mean(axis=2)  # [n, k] L1 / bins
    report = {"histogram_distance": round(float(hist.mean()), 4), "queries": n}
    labelled = labels >= 0
    if labelled.any():
        relevant = labels[order[labelled]] == labels[labelled][:, None]
        report[f"P@{k}"] = round(float(relevant[:, :k].mean()), 4)
        report["mAP"] = round(float(average_precisions(relevant).mean()), 4)
    return report


def evaluate_descriptors(vectors: dict[str, np.ndarray], labels: np.ndarray, histograms: np.ndarray, *,
                         metric: str = "l1", k: int = K) -> dict[str, dict]:
    """``leave_one_out`` for every named descriptor, one distance metric for all."""
    labels = np.asarray(labels, dtype=np.int64)
    return {name: leave_one_out(distance_matrix(v, metric), labels, histograms, k) for name, v in vectors.items()}
