"""`manage.py evaluate` on a small subset with the tiny test checkpoint, and the pure
evaluation helpers of ``retrieval.engine.evaluation`` on hand-made arrays."""

import json
from io import StringIO

import numpy as np
import pytest
import torch
from django.core.management import CommandError, call_command

from retrieval.engine.evaluation import (
    BYTES_PER_CELL,
    average_precisions,
    distance_matrix,
    evaluate_retrieval,
    full_ranking_ap,
    queries_per_chunk,
    ranked_relevance,
    target_check,
)
from retrieval.engine.index import VectorIndex
from retrieval.engine.metrics import average_precision, mean_average_precision
from tests.conftest import DATASET_MISSING, tiny_checkpoint

needs_dataset = pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)")
MEASURES = ("P@1", "P@5", "P@10", "mAP", "top1_accuracy", "top5_accuracy", "top10_accuracy")


def evaluate(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", "image", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def report() -> dict:
    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed")
    tiny_checkpoint()
    return json.loads(evaluate("--json", "--queries", "200", "--gallery-size", "300"))


# --- the command -----------------------------------------------------------------------

@needs_dataset
def test_report_has_every_key(report):
    assert {"task", "checkpoint", "checkpoint_id", "gallery", "queries", "l2", "cosine", "target", "seconds"} <= set(report)
    assert report["task"] == "image" and report["gallery"] == 300 and report["queries"] == 200
    for metric in ("l2", "cosine"):
        assert set(MEASURES) <= set(report[metric])
        assert report[metric]["queries"] == 200


@needs_dataset
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_report_values_are_fractions_with_consistent_top_k(report, metric):
    values = report[metric]
    assert all(0.0 <= values[name] <= 1.0 for name in MEASURES)
    assert values["top1_accuracy"] <= values["top5_accuracy"] <= values["top10_accuracy"]
    assert values["P@1"] == values["top1_accuracy"]  # one result: "any of them" is "the fraction of them"


@needs_dataset
def test_report_target_is_judged_on_every_metric(report):
    target = report["target"]
    assert target["P@5"] == 0.92
    assert target["by_metric"] == {m: report[m]["P@5"] >= 0.92 for m in ("l2", "cosine")}
    assert target["met"] is all(target["by_metric"].values())


@needs_dataset
def test_single_metric_and_readable_table():
    tiny_checkpoint()
    table = evaluate("--queries", "50", "--gallery-size", "100", "--metric", "cosine")
    assert "50 test queries against 100 gallery images" in table
    assert "cosine" in table and "l2" not in table.split("\n")[3]
    assert "mAP" in table and "top10_accuracy" in table and "target P@5 >= 0.92" in table


@needs_dataset
def test_missing_checkpoint_and_tiny_gallery_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="No descriptor checkpoint"):
        evaluate("--checkpoint", str(tmp_path / "absent.pt"), "--queries", "10", "--gallery-size", "20")
    with pytest.raises(CommandError, match="at least 10"):
        evaluate("--queries", "10", "--gallery-size", "5")


# --- pure helpers ----------------------------------------------------------------------

def reference_ap(distances: np.ndarray, gallery_labels: np.ndarray, query_labels: np.ndarray) -> np.ndarray:
    """AP of each row with the gallery ranked by numpy and scored by the one-list reference."""
    return np.array([average_precision(gallery_labels[np.argsort(row, kind="stable")] == label)
                     for row, label in zip(distances, query_labels, strict=True)])


def on_a_line(positions) -> np.ndarray:
    """2-d vectors whose L2 distances are the differences of ``positions``."""
    return np.array([[p, 0.0] for p in positions], dtype=np.float32)


def test_distance_matrix_l2_is_squared_euclidean():
    rng = np.random.default_rng(1)
    q, g = rng.normal(size=(4, 6)).astype(np.float32), rng.normal(size=(9, 6)).astype(np.float32)
    expected = ((q[:, None] - g[None]) ** 2).sum(-1)
    distances = distance_matrix(torch.from_numpy(q), torch.from_numpy(g), "l2").numpy()
    np.testing.assert_allclose(distances, expected, rtol=1e-4, atol=1e-4)


def test_distance_matrix_cosine_ignores_length():
    q = torch.tensor([[1.0, 0.0]])
    g = torch.tensor([[5.0, 0.0], [0.0, 0.1], [-2.0, 0.0]])
    np.testing.assert_allclose(distance_matrix(q, g, "cosine").numpy(), [[0.0, 1.0, 2.0]], atol=1e-6)


def test_distance_matrix_rejects_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric"):
        distance_matrix(torch.zeros(1, 2), torch.zeros(1, 2), "hamming")


def test_only_relevant_item_last_still_counts():
    gallery = on_a_line(range(1, 11))  # the query at 0 ranks them in order
    ap = full_ranking_ap(on_a_line([0]), np.array([1]), gallery, np.array([0] * 9 + [1]), "l2")
    assert ap[0] == pytest.approx(0.1)  # 1/10, not 0: the last item is part of the ranking


def test_relevant_first_and_last():
    ap = full_ranking_ap(on_a_line([0]), np.array([1]), on_a_line(range(1, 11)), np.array([1] + [0] * 8 + [1]), "l2")
    assert ap[0] == pytest.approx((1 + 2 / 10) / 2)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, None])
def test_chunked_ap_agrees_with_average_precision_per_row(metric, chunk):
    rng = np.random.default_rng(0)
    queries, gallery = rng.normal(size=(7, 5)), rng.normal(size=(40, 5))
    query_labels = np.array([0, 1, 2, 3, 0, 1, 9])  # label 9 has no relevant item: AP 0
    gallery_labels = rng.integers(0, 4, 40)
    gallery_labels[-1] = 3  # and one relevant item sits at the end of the gallery order
    distances = distance_matrix(torch.from_numpy(queries).float(), torch.from_numpy(gallery).float(), metric).numpy()
    ap = full_ranking_ap(queries, query_labels, gallery, gallery_labels, metric, chunk=chunk)
    np.testing.assert_allclose(ap, reference_ap(distances, gallery_labels, query_labels), rtol=1e-12)
    assert ap[-1] == 0.0


def test_queries_per_chunk_keeps_a_chunk_within_the_budget():
    budget = 512 * 1024 * 1024
    chunk = queries_per_chunk(60_000, budget)
    assert chunk >= 1 and chunk * 60_000 * BYTES_PER_CELL <= budget < (chunk + 1) * 60_000 * BYTES_PER_CELL
    assert queries_per_chunk(10**12, budget) == 1  # never zero, however large the gallery
    assert queries_per_chunk(0) >= 1


def test_evaluate_retrieval_known_answers():
    """One query at 0 on a line of ten gallery items whose only relevant item is the farthest."""
    results = evaluate_retrieval(on_a_line([0, 0]), np.array([1, 0]), on_a_line(range(1, 11)),
                                 np.array([0] * 9 + [1]), metrics=("l2",))
    report = results["l2"].report
    # query 0 (label 1): relevant only at rank 10; query 1 (label 0): ranks 1-9 relevant, 10 not
    assert report["P@1"] == 0.5 and report["top1_accuracy"] == 0.5
    assert report["P@5"] == 0.5 and report["top5_accuracy"] == 0.5
    assert report["P@10"] == pytest.approx((0.1 + 0.9) / 2) and report["top10_accuracy"] == 1.0
    assert report["mAP"] == pytest.approx((0.1 + 1.0) / 2)
    assert set(results["l2"].seconds) == {"topk", "mAP"}


def test_evaluate_retrieval_cosine_ranks_by_angle_not_length():
    angles = np.linspace(0.1, 1.0, 10)
    lengths = np.array([9, 1, 5, 2, 7, 3, 8, 4, 6, 0.5])
    gallery = np.stack([lengths * np.cos(angles), lengths * np.sin(angles)], axis=1)
    results = evaluate_retrieval(np.array([[1.0, 0.0]]), np.array([1]), gallery, np.array([0] * 9 + [1]), metrics=("cosine",))
    assert results["cosine"].report["mAP"] == pytest.approx(0.1)
    assert results["cosine"].report["top10_accuracy"] == 1.0 and results["cosine"].report["top5_accuracy"] == 0.0


def test_faiss_top_k_matches_the_full_ranking():
    """The index's top-k (P@k) and the torch ranking (mAP) order the gallery the same way."""
    rng = np.random.default_rng(3)
    queries, gallery = rng.normal(size=(20, 8)).astype(np.float32), rng.normal(size=(200, 8)).astype(np.float32)
    index = VectorIndex.build(gallery, np.arange(200), np.arange(200), {"checkpoint_id": "t"})
    for metric in ("l2", "cosine"):
        distances = distance_matrix(torch.from_numpy(queries), torch.from_numpy(gallery), metric).numpy()
        expected = np.argsort(distances, axis=1)[:, :10]
        np.testing.assert_array_equal(index.search(queries, 10, metric).ids, expected)


def test_evaluate_retrieval_needs_a_gallery_of_at_least_k():
    with pytest.raises(ValueError, match="at least 10"):
        evaluate_retrieval(on_a_line([0]), np.array([0]), on_a_line(range(5)), np.zeros(5, int))


def test_target_check_reports_every_metric():
    check = target_check({"l2": {"P@5": 0.93}, "cosine": {"P@5": 0.91}}, "P@5", 0.92)
    assert check == {"P@5": 0.92, "met": False, "by_metric": {"l2": True, "cosine": False}}
    assert target_check({"l2": {"P@5": 0.92}}, "P@5", 0.92)["met"] is True
    assert target_check({}, "P@5", 0.92)["met"] is False


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_full_ranking_ap_matches_the_metrics_reference_with_ties(metric):
    """Equal distances rank in gallery order, exactly as metrics.mean_average_precision ranks them."""
    gallery = np.array([[1, 0], [2, 0], [1, 0], [2, 0], [1, 0], [3, 0], [2, 0]], dtype=np.float32)
    gallery_labels = np.array([0, 1, 1, 0, 0, 1, 1])
    queries = np.array([[1, 0], [2, 0], [3, 0], [1, 0]], dtype=np.float32)  # cosine: all ties, pure gallery order
    query_labels = np.array([1, 0, 1, 0])
    distances = distance_matrix(torch.from_numpy(queries), torch.from_numpy(gallery), metric)
    expected = mean_average_precision(distances, torch.from_numpy(gallery_labels), torch.from_numpy(query_labels))
    np.testing.assert_allclose(full_ranking_ap(queries, query_labels, gallery, gallery_labels, metric), expected, rtol=1e-12)


def test_ranked_relevance_orders_by_distance_then_gallery_position():
    distances = np.array([[0.5, -0.0, 0.2, 0.0, -1e-7, 0.2]], dtype=np.float32)  # -0.0 and rounding below 0 tie with 0
    relevant = ranked_relevance(distances, np.arange(6), np.array([4]))
    # order: 1, 3, 4 (all 0), then 2, 5 (0.2), then 0 (0.5): item 4 is third
    np.testing.assert_array_equal(relevant[0], [False, False, True, False, False, False])


@pytest.mark.parametrize("row", [[1, 0, 1], [0, 1, 0, 1], [1, 1, 1], [0, 0, 0], [0] * 9 + [1], [1] + [0] * 8 + [1]])
def test_average_precisions_match_average_precision(row):
    rows = np.array([row, row[::-1]], dtype=bool)
    assert average_precisions(rows) == pytest.approx([average_precision(r) for r in rows])
