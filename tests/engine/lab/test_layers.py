"""fc_conv with every layer weighed alike: each layer's L1 / dims over its mean gallery distance,
averaged over the layers; stored as one scaled vector that a query is scaled like."""

import numpy as np
import pytest

from retrieval.engine.lab.index import LabIndex, l1_distances
from retrieval.engine.lab.layers import balanced_layers, layer_bounds, mean_layer_distances


def _layers(seed: int = 0):
    rng = np.random.default_rng(seed)
    big = rng.normal(0, 1000.0, (20, 3))  # a layer of huge values (the Conv's first stage)
    small = rng.normal(0, 0.001, (20, 7))  # and one of tiny values (its last)
    return np.concatenate([big, small], axis=1).astype(np.float32), (3, 7)


def test_bounds_and_mean_distances_by_hand():
    assert layer_bounds((2, 3, 1)) == [(0, 2), (2, 5), (5, 6)]
    x = np.array([[0, 0, 0], [2, 4, 1], [4, 8, 2]], np.float32)
    means = mean_layer_distances(x, [(0, 2), (2, 3)])
    # layer 0: L1 6, 12, 6 over 2 dims -> 3, 6, 3; layer 1: 1, 2, 1
    np.testing.assert_allclose(means, [(3 + 6 + 3) / 3, (1 + 2 + 1) / 3], rtol=1e-6)


def test_the_distance_is_the_average_of_the_layers_distances_over_their_means():
    x, dims = _layers()
    scaled, meta = balanced_layers(x, dims)
    means = meta["layer_mean_distances"]
    expected = 0.5 * l1_distances(x[:, :3], x[:, :3]) / means[0] + 0.5 * l1_distances(x[:, 3:], x[:, 3:]) / means[1]
    np.testing.assert_allclose(l1_distances(scaled, scaled), expected, rtol=1e-3, atol=1e-6)
    off = ~np.eye(len(x), dtype=bool)
    per_layer = [l1_distances(scaled[:, a:b], scaled[:, a:b])[off].mean() * (b - a) for a, b in meta["layers"]]
    assert per_layer[0] == pytest.approx(per_layer[1], rel=1e-3)  # each layer weighs the same on average


def test_shares_and_a_constant_layer():
    x, dims = _layers()
    x[:, 3:] = 5.0  # a layer that never varies tells nothing
    scaled, meta = balanced_layers(x, dims, shares=[0.25, 0.75])
    assert meta["layer_weights"][1] == 0.0 and np.isfinite(scaled).all()
    with pytest.raises(ValueError, match="do not make"):
        balanced_layers(x, (3, 3))


def test_an_index_scales_a_raw_query_as_it_scaled_the_gallery():
    x, dims = _layers()
    scaled, meta = balanced_layers(x, dims)
    index = LabIndex(scaled, np.arange(len(x)) + 10, np.zeros(len(x), int), {"descriptor": "fc_conv", **meta})
    np.testing.assert_allclose(index.encode(x[4]), scaled[4:5], rtol=1e-6)
    hits = index.search(x[4], 1)
    assert hits.ids[0, 0] == 14 and hits.distances[0, 0] == pytest.approx(0.0, abs=1e-6)
    plain = LabIndex(x, np.arange(len(x)), np.zeros(len(x), int), {})
    np.testing.assert_array_equal(plain.encode(x[:2]), x[:2])
