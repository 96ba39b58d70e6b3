"""Hamming-ranking measures over the whole database.

mAP: for each query, the database ranked by Hamming distance (ties by database order, a
stable sort), AP = the mean of the precision at the rank of every relevant item -- all of
them, the last included (a common off-by-one ranks only the first N - 1 items and drops the
last relevant one). Precision within radius r: the share of relevant items among those at
distance <= r (0 for a query that retrieves nothing), averaged over the queries.
"""

import numpy as np

from .binary import hamming


def average_precision(relevant_in_rank_order: np.ndarray) -> float:
    relevant = np.asarray(relevant_in_rank_order, dtype=bool)
    if not relevant.any():
        return 0.0
    hits = np.cumsum(relevant)
    ranks = np.flatnonzero(relevant) + 1
    return float((hits[relevant] / ranks).mean())


def hamming_map(query_codes: np.ndarray, query_labels: np.ndarray, db_codes: np.ndarray, db_labels: np.ndarray,
                *, chunk: int = 256) -> float:
    """mAP of packed query codes against the whole packed database."""
    aps = []
    for start in range(0, len(query_codes), chunk):
        distances = hamming(query_codes[start:start + chunk], db_codes)
        order = np.argsort(distances, axis=1, kind="stable")
        for row, label in zip(order, query_labels[start:start + chunk], strict=True):
            aps.append(average_precision(db_labels[row] == label))
    return float(np.mean(aps)) if aps else 0.0


def precision_within(query_codes, query_labels, db_codes, db_labels, radius: int = 2) -> dict:
    distances = hamming(query_codes, db_codes)
    inside = distances <= radius
    retrieved = inside.sum(1)
    relevant = (inside & (db_labels[None, :] == query_labels[:, None])).sum(1)
    precision = np.where(retrieved > 0, relevant / np.maximum(retrieved, 1), 0.0)
    return {"precision": round(float(precision.mean()), 4), "queries_with_results": round(float((retrieved > 0).mean()), 4)}


def pr_curve(distances: np.ndarray, relevant: np.ndarray, bits: int) -> dict:
    """Precision and recall of one query at every Hamming radius 0..bits (the page's chart)."""
    relevant = np.asarray(relevant, bool)
    total = max(int(relevant.sum()), 1)
    precision, recall = [], []
    for r in range(bits + 1):
        inside = distances <= r
        n = int(inside.sum())
        hits = int((inside & relevant).sum())
        precision.append(round(hits / n, 4) if n else 1.0)
        recall.append(round(hits / total, 4))
    return {"radius": list(range(bits + 1)), "precision": precision, "recall": recall}
