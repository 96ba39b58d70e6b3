"""Retrieval quality measures, pure numpy/torch on label arrays.

``retrieved`` holds the gallery labels of each query's ranked results: [queries, k].
"""

import numpy as np
import torch


def precision_at_k(retrieved: np.ndarray, query_labels: np.ndarray, k: int) -> float:
    """Mean fraction of a query's first k results that share its label."""
    hits = retrieved[:, :k] == query_labels[:, None]
    return float(hits.mean())


def topk_accuracy(retrieved: np.ndarray, query_labels: np.ndarray, k: int) -> float:
    """Fraction of queries with at least one of their first k results sharing their label."""
    hits = retrieved[:, :k] == query_labels[:, None]
    return float(hits.any(axis=1).mean())


def average_precision(relevant_in_rank_order: np.ndarray) -> float:
    """AP of one ranked list given as booleans over the *whole* gallery (no item dropped)."""
    relevant = np.asarray(relevant_in_rank_order, dtype=bool)
    total = relevant.sum()
    if total == 0:
        return 0.0
    ranks = np.flatnonzero(relevant) + 1  # 1-based positions of the relevant items
    precision_at_hits = np.arange(1, total + 1) / ranks
    return float(precision_at_hits.mean())


def mean_average_precision(distances: torch.Tensor, gallery_labels: torch.Tensor, query_labels: torch.Tensor) -> np.ndarray:
    """Per-query AP over the full ranking of one chunk: distances [q, gallery] (lower is nearer).

    Vectorised form of ``average_precision`` for every row; ties are broken by gallery order.
    """
    order = torch.argsort(distances, dim=1, stable=True)
    relevant = (gallery_labels[order] == query_labels[:, None]).to(torch.float64)
    cumulative = relevant.cumsum(dim=1)
    ranks = torch.arange(1, relevant.shape[1] + 1, dtype=torch.float64)
    totals = relevant.sum(dim=1)
    ap = (relevant * cumulative / ranks).sum(dim=1) / totals.clamp(min=1)
    return ap.numpy()


def retrieval_report(retrieved: np.ndarray, query_labels: np.ndarray, ap: np.ndarray, ks=(1, 5, 10)) -> dict:
    """The standard JSON block: P@k, top-k matching accuracy and mAP."""
    report = {f"P@{k}": round(precision_at_k(retrieved, query_labels, k), 4) for k in ks}
    report["mAP"] = round(float(np.mean(ap)), 4)
    report.update({f"top{k}_accuracy": round(topk_accuracy(retrieved, query_labels, k), 4) for k in ks})
    report["queries"] = int(len(query_labels))
    return report
