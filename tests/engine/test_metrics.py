"""Retrieval metrics on hand-made label arrays with answers worked out by hand."""

import numpy as np
import pytest
import torch

from retrieval.engine.metrics import (
    average_precision,
    mean_average_precision,
    precision_at_k,
    retrieval_report,
    topk_accuracy,
)

# query 0 (label 1) gets labels 1, 1, 2; query 1 (label 2) gets 0, 2, 2
RETRIEVED = np.array([[1, 1, 2], [0, 2, 2]])
QUERY_LABELS = np.array([1, 2])


@pytest.mark.parametrize("k, expected", [(1, 0.5), (2, 0.75), (3, 2 / 3)])
def test_precision_at_k(k, expected):
    assert precision_at_k(RETRIEVED, QUERY_LABELS, k) == pytest.approx(expected)


@pytest.mark.parametrize("k, expected", [(1, 0.5), (2, 1.0), (3, 1.0)])
def test_topk_accuracy(k, expected):
    assert topk_accuracy(RETRIEVED, QUERY_LABELS, k) == pytest.approx(expected)


def test_topk_accuracy_is_zero_when_nothing_matches():
    assert topk_accuracy(np.array([[3, 4], [5, 6]]), np.array([0, 1]), 2) == 0.0
    assert precision_at_k(np.array([[3, 4], [5, 6]]), np.array([0, 1]), 2) == 0.0


@pytest.mark.parametrize("relevant, expected", [
    ([1, 0, 1], (1 + 2 / 3) / 2),
    ([0, 1, 0, 1], (1 / 2 + 2 / 4) / 2),
    ([1, 1, 1], 1.0),
    ([0, 0, 0], 0.0),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0.1),  # relevant only at the very end still counts
    ([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], (1 + 2 / 10) / 2),
])
def test_average_precision_known_values(relevant, expected):
    assert average_precision(np.array(relevant, dtype=bool)) == pytest.approx(expected)


def test_average_precision_accepts_lists_and_ints():
    assert average_precision([0, 1]) == pytest.approx(0.5)


def _reference_ap(distances: np.ndarray, gallery: np.ndarray, queries: np.ndarray) -> np.ndarray:
    out = []
    for row, label in zip(distances, queries, strict=True):
        order = np.argsort(row, kind="stable")
        out.append(average_precision(gallery[order] == label))
    return np.array(out)


def test_mean_average_precision_matches_average_precision_per_row():
    rng = np.random.default_rng(0)
    distances = rng.random((7, 50))
    gallery = rng.integers(0, 4, 50)
    queries = np.array([0, 1, 2, 3, 0, 1, 9])  # label 9 has no relevant item: AP 0
    ap = mean_average_precision(torch.from_numpy(distances), torch.from_numpy(gallery), torch.from_numpy(queries))
    assert ap.shape == (7,)
    np.testing.assert_allclose(ap, _reference_ap(distances, gallery, queries), rtol=1e-12)
    assert ap[-1] == 0.0


def test_mean_average_precision_breaks_ties_by_gallery_order():
    distances = torch.zeros((1, 4), dtype=torch.float64)
    gallery = torch.tensor([0, 1, 0, 1])
    ap = mean_average_precision(distances, gallery, torch.tensor([1]))
    assert ap[0] == pytest.approx((1 / 2 + 2 / 4) / 2)


def test_mean_average_precision_many_ties_follow_gallery_order():
    # large enough that an unstable sort really does reorder equal distances
    rng = np.random.default_rng(1)
    distances = rng.integers(0, 3, (2, 3000)).astype(np.float64)
    gallery = rng.integers(0, 5, 3000)
    queries = np.array([0, 3])
    ap = mean_average_precision(torch.from_numpy(distances), torch.from_numpy(gallery), torch.from_numpy(queries))
    np.testing.assert_allclose(ap, _reference_ap(distances, gallery, queries), rtol=1e-12)


def test_mean_average_precision_perfect_and_worst_rankings():
    gallery = torch.tensor([0, 0, 1, 1])
    distances = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    ap = mean_average_precision(distances, gallery, torch.tensor([0, 0]))
    assert ap[0] == pytest.approx(1.0)
    assert ap[1] == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_retrieval_report_keys_and_values():
    report = retrieval_report(RETRIEVED, QUERY_LABELS, np.array([0.25, 0.75]), ks=(1, 2))
    assert set(report) == {"P@1", "P@2", "mAP", "top1_accuracy", "top2_accuracy", "queries"}
    assert report == {"P@1": 0.5, "P@2": 0.75, "mAP": 0.5, "top1_accuracy": 0.5, "top2_accuracy": 1.0, "queries": 2}


def test_retrieval_report_default_ks_and_rounding():
    retrieved = np.tile(np.array([[0, 1, 1]]), (3, 4))  # 12 results per query
    report = retrieval_report(retrieved, np.zeros(3, int), np.array([1 / 3, 1 / 3, 1 / 3]))
    assert set(report) == {"P@1", "P@5", "P@10", "mAP", "top1_accuracy", "top5_accuracy", "top10_accuracy", "queries"}
    assert report["P@1"] == 1.0 and report["P@5"] == 0.4 and report["P@10"] == 0.4  # 0 at ranks 1, 4, 7, 10
    assert report["mAP"] == 0.3333 and report["queries"] == 3
    assert isinstance(report["queries"], int)
