"""The lab's embedding map: PCA by numpy SVD, bounded, deterministic, stored atomically."""

import numpy as np
import pytest

from retrieval.engine.lab.embedding import Embedding, pca_embedding


def _clusters(n_per: int = 30, dim: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.zeros((2, dim))
    centres[1, 3] = 10.0  # the classes differ along one direction, the largest variance
    x = np.concatenate([c + rng.normal(0, 0.5, (n_per, dim)) for c in centres]).astype(np.float32)
    return x, np.arange(len(x)) + 100, np.repeat([0, 1], n_per)


def test_the_first_axis_separates_the_classes_and_the_map_is_the_projection():
    x, ids, labels = _clusters()
    embedding = pca_embedding(x, ids, labels, {"descriptor": "t"})
    first = embedding.points[:, 0]
    assert first[labels == 0].max() < first[labels == 1].min() or first[labels == 1].max() < first[labels == 0].min()
    assert embedding.meta["explained_variance"][0] > 0.8 and embedding.meta["descriptor"] == "t"
    np.testing.assert_allclose(embedding.project(x), embedding.points, atol=1e-4)
    np.testing.assert_array_equal(embedding.ids, ids)


def test_the_map_is_the_same_on_every_fit_and_survives_saving(tmp_path):
    x, ids, labels = _clusters()
    a, b = pca_embedding(x, ids, labels), pca_embedding(x.copy(), ids, labels)
    np.testing.assert_allclose(a.points, b.points, atol=1e-5)  # signs fixed: the same picture
    a.save(tmp_path / "m.npz")
    loaded = Embedding.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.points, a.points)
    assert loaded.meta == a.meta and not list(tmp_path.glob(".*.tmp"))


def test_cost_is_bounded_by_sampling_the_fit_and_the_points():
    x, ids, labels = _clusters(n_per=200)
    embedding = pca_embedding(x, ids, labels, fit_rows=50, map_points=120)
    assert embedding.meta["fit_rows"] == 50 and embedding.meta["gallery_items"] == 400
    assert len(embedding.points) == len(embedding.ids) == len(embedding.labels) == 120
    assert set(embedding.ids) <= set(ids) and list(embedding.ids) == sorted(embedding.ids)


def test_degenerate_inputs():
    one = pca_embedding(np.ones((1, 3), np.float32), np.array([1]), np.array([0]))
    assert one.points.shape == (1, 2) and np.isfinite(one.points).all()
    flat = pca_embedding(np.zeros((5, 1), np.float32), np.arange(5), np.zeros(5, int))
    assert flat.points.shape == (5, 2) and np.isfinite(flat.points).all()
    with pytest.raises(ValueError):
        pca_embedding(np.zeros((0, 4), np.float32), np.zeros(0, int), np.zeros(0, int))
