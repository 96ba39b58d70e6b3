"""The lab's exact L1 / L2 / cosine search and the leave-one-out measures on tiny arrays."""

import numpy as np
import pytest

from retrieval.engine.lab.colour import histogram_vectors
from retrieval.engine.lab.evaluation import leave_one_out
from retrieval.engine.lab.index import LabIndex, l1_distances


def test_l1_is_the_mean_absolute_difference():
    a, b = np.array([[0.0, 0.0, 3.0]]), np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(l1_distances(a, b), [[4 / 3, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("metric", ["l1", "l2", "cosine"])
def test_search_ranks_as_brute_force_and_survives_a_round_trip(tmp_path, metric):
    rng = np.random.default_rng(1)
    vectors = rng.random((30, 8)).astype(np.float32)
    index = LabIndex(vectors, np.arange(100, 130), np.arange(30) % 3, {"id": "t"})
    index.save(tmp_path / "i.npz")
    loaded = LabIndex.load(tmp_path / "i.npz")
    hits = loaded.search(vectors[4], k=5, metric=metric)
    if metric == "l1":
        expected = np.argsort(np.abs(vectors - vectors[4]).mean(1), kind="stable")[:5]
    elif metric == "l2":
        expected = np.argsort(np.linalg.norm(vectors - vectors[4], axis=1))[:5]
    else:
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        expected = np.argsort(1 - unit @ unit[4])[:5]
    assert hits.ids[0].tolist() == (expected + 100).tolist()
    assert loaded.meta["dim"] == 8 and loaded.vector(104).tolist() == vectors[4].tolist()


def test_leave_one_out_drops_the_query_and_measures_its_neighbours():
    # four items on a line, classes 0 0 1 1; histograms: one bin each, values 0, 0.2, 0.4, 0.6
    positions = np.array([0.0, 1.0, 10.0, 11.0])
    distances = np.abs(positions[:, None] - positions[None])
    histograms = np.array([[0.0], [0.2], [0.4], [0.6]])
    report = leave_one_out(distances, np.array([0, 0, 1, 1]), histograms, k=1)
    assert report["P@1"] == 1.0 and report["mAP"] == 1.0
    assert report["histogram_distance"] == pytest.approx(0.2)  # each nearest neighbour is 0.2 away
    with pytest.raises(ValueError, match="more than"):
        leave_one_out(distances, np.zeros(4, int), histograms, k=4)


def test_unlabelled_items_are_never_relevant_and_never_scored():
    distances = np.abs(np.arange(5.0)[:, None] - np.arange(5.0)[None])
    report = leave_one_out(distances, np.array([-1, -1, -1, -1, -1]), np.zeros((5, 2)), k=2)
    assert "P@2" not in report and report["histogram_distance"] == 0.0


def test_histogram_vectors_are_normalised_per_channel():
    from PIL import Image

    vectors = histogram_vectors([Image.new("RGB", (4, 4), (255, 0, 0))], colour=True, bins=25)
    assert vectors.shape == (1, 75)
    np.testing.assert_allclose(vectors[0].reshape(3, 25).sum(1), 1.0)
    assert vectors[0, 24] == 1.0 and vectors[0, 25] == 1.0  # R in the top bin, G in the bottom one
