"""Offline evaluation: full-ranking AP in chunks, distance matrices, and the per-metric report."""

import numpy as np
import pytest
import torch

from retrieval.engine.evaluation import (
    distance_matrix,
    evaluate_metric,
    evaluate_retrieval,
    full_ranking_ap,
    queries_per_chunk,
    target_check,
)
from retrieval.engine.index import VectorIndex
from retrieval.engine.metrics import average_precision


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(60, 6)).astype(np.float32)
    gallery_labels = rng.integers(0, 4, 60)
    queries = rng.normal(size=(9, 6)).astype(np.float32)
    query_labels = rng.integers(0, 4, 9)
    return queries, query_labels, gallery, gallery_labels


def test_distance_matrix_l2_is_squared_euclidean_and_cosine_is_one_minus_cos(data):
    queries, _, gallery, _ = data
    q, g = torch.from_numpy(queries), torch.from_numpy(gallery)
    expected = ((queries[:, None] - gallery[None]) ** 2).sum(-1)
    np.testing.assert_allclose(distance_matrix(q, g, "l2").numpy(), expected, rtol=1e-4, atol=1e-4)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    cos = unit(queries) @ unit(gallery).T
    np.testing.assert_allclose(distance_matrix(q, g, "cosine").numpy(), 1 - cos, atol=1e-5)
    assert (distance_matrix(g[:3], g[:3], "l2").diagonal() >= 0).all()
    with pytest.raises(ValueError, match="unknown metric"):
        distance_matrix(q, g, "hamming")


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_full_ranking_ap_matches_per_query_average_precision_in_any_chunking(data, metric):
    queries, query_labels, gallery, gallery_labels = data
    ap = full_ranking_ap(queries, query_labels, gallery, gallery_labels, metric)
    if metric == "l2":
        distances = np.linalg.norm(queries[:, None] - gallery[None], axis=2)
    else:
        distances = 1 - (queries @ gallery.T) / np.linalg.norm(queries, axis=1)[:, None] / np.linalg.norm(gallery, axis=1)
    expected = [average_precision(gallery_labels[np.argsort(row, kind="stable")] == label)
                for row, label in zip(distances, query_labels, strict=True)]
    np.testing.assert_allclose(ap, expected, rtol=1e-9)
    for chunk in (1, 2, 4, 100):
        np.testing.assert_array_equal(full_ranking_ap(queries, query_labels, gallery, gallery_labels, metric, chunk=chunk), ap)


def test_queries_per_chunk_respects_budget():
    assert queries_per_chunk(1000, memory_budget=80 * 1000 * 7) == 7
    assert queries_per_chunk(10**9, memory_budget=1024) == 1  # never zero
    assert queries_per_chunk(0, memory_budget=800) == 10


def test_evaluate_metric_uses_index_top_k_and_full_ranking(data):
    queries, query_labels, gallery, gallery_labels = data
    index = VectorIndex.build(gallery, np.arange(60), gallery_labels, {"checkpoint_id": "e"})
    result = evaluate_metric(index, queries, query_labels, gallery, "cosine", ks=(1, 5))
    hits = index.search(queries, 5, "cosine")
    assert result.report["P@5"] == round(float((hits.labels == query_labels[:, None]).mean()), 4)
    assert result.report["queries"] == 9
    ap = full_ranking_ap(queries, query_labels, gallery, gallery_labels, "cosine")
    assert result.report["mAP"] == round(float(ap.mean()), 4)
    assert set(result.seconds) == {"topk", "mAP"}
    with pytest.raises(ValueError, match="k=100"):
        evaluate_metric(index, queries, query_labels, gallery, "l2", ks=(1, 100))


def test_evaluate_retrieval_identical_query_and_gallery_is_perfect_at_one():
    vectors = np.eye(5, dtype=np.float32) * 3 + 0.1
    labels = np.arange(5)
    results = evaluate_retrieval(vectors, labels, vectors, labels, ks=(1,))
    assert set(results) == {"l2", "cosine"}
    for result in results.values():
        assert result.report["P@1"] == 1.0 and result.report["mAP"] == 1.0 and result.report["top1_accuracy"] == 1.0


def test_target_check():
    reports = {"l2": {"P@5": 0.91}, "cosine": {"P@5": 0.89}}
    assert target_check(reports, "P@5", 0.9) == {"P@5": 0.9, "met": False, "by_metric": {"l2": True, "cosine": False}}
    assert target_check(reports, "P@5", 0.85)["met"] is True
    assert target_check({}, "P@5", 0.5)["met"] is False  # nothing evaluated is not success
