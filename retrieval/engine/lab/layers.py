"""FC+Conv with every layer weighed alike: the portal's ``fc_conv``.

The paper concatenates the layers it takes (VGG16: pool1..pool5 for Conv, fc6 and fc7 for FC)
and compares by L1 over the number of dimensions. That sum weighs each layer by its
dimension count times the scale of its values, and the scales differ by orders of magnitude:
on EfficientNet-Lite0 the Conv descriptor's first stage (a 16 x 16 patch sum over 16
channels) averages 45 per value and its last (one cell over 1,280 channels) 0.00015, so the
raw L1 is, in effect, the first two stages' 40 values plus the logits. Here each layer's
L1 / dims is divided by that layer's mean over pairs of gallery images, so each layer's
distance has the same unit, and the distance is their plain average over the layers:

    d(a, b) = (1 / L) * sum_l  L1_l(a, b) / (n_l * m_l)

with n_l the layer's dimensions and m_l its mean L1 / n_l over gallery pairs. It is still L1
over dims of one vector (each layer scaled by N / (L * n_l * m_l), N the total dims), so the
index is an ordinary lab index storing the scaled vectors, and a query is scaled the same way
(``LabIndex.encode``). The m_l come from a seeded sample of the gallery, so the cost is
bounded and a rebuild gives the same weights; no label is used.
"""

import numpy as np

from .index import l1_distances

SAMPLE = 512  # gallery rows whose pairs give each layer's mean distance
SEED = 0


def layer_bounds(dims: tuple[int, ...] | list[int]) -> list[tuple[int, int]]:
    """[start, stop) of each layer in a concatenation of layers of ``dims`` values."""
    edges = np.cumsum([0, *dims])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def mean_layer_distances(vectors: np.ndarray, bounds: list[tuple[int, int]], *, sample: int = SAMPLE,
                         seed: int = SEED) -> np.ndarray:
    """Per layer, the mean L1 / dims between two different rows of (a seeded sample of) ``vectors``."""
    n = len(vectors)
    rows = np.arange(n) if n <= sample else np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    x = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    off = ~np.eye(len(x), dtype=bool)
    if not off.any():  # a single row has no pairs
        return np.zeros(len(bounds))
    return np.array([float(l1_distances(x[:, a:b], x[:, a:b])[off].mean()) for a, b in bounds])


def layer_weights(bounds: list[tuple[int, int]], means: np.ndarray, shares: list[float] | None = None) -> list[float]:
    """The scale of each layer that makes L1 / dims of the scaled vector the weighted sum of the
    layers' L1 / dims over their means, each layer's share ``shares`` (default: 1 / L each; a
    layer that never varies gets 0: it tells nothing)."""
    total = bounds[-1][1] if bounds else 0
    shares = shares or [1 / len(bounds)] * len(bounds)
    return [0.0 if m <= 1e-12 else float(total * share / ((b - a) * m))
            for (a, b), m, share in zip(bounds, means, shares, strict=True)]


def balanced_layers(vectors: np.ndarray, dims: tuple[int, ...] | list[int], *, sample: int = SAMPLE,
                    shares: list[float] | None = None) -> tuple[np.ndarray, dict]:
    """``vectors`` (a concatenation of layers of ``dims`` values) scaled so that every layer counts
    alike under L1 / dims (or by ``shares``), and the index metadata that scales a query the same way."""
    bounds = layer_bounds(dims)
    if bounds and bounds[-1][1] != vectors.shape[1]:
        raise ValueError(f"layers of {sum(dims)} values do not make vectors of {vectors.shape[1]}")
    means = mean_layer_distances(vectors, bounds, sample=sample)
    weights = layer_weights(bounds, means, shares)
    scale = np.ones(vectors.shape[1], np.float32)
    for (a, b), w in zip(bounds, weights, strict=True):
        scale[a:b] = w
    meta = {"layers": [list(bound) for bound in bounds], "layer_weights": weights,
            "layer_mean_distances": [round(float(m), 6) for m in means]}
    return (vectors * scale).astype(np.float32), meta
