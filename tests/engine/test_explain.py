"""Histogram explanations: per-channel normalised histograms and L1 / bins distance."""

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.explain import DEFAULT_BINS, Histogram, compare_histograms, histogram, histogram_distance


def grey(values) -> Image.Image:
    return Image.fromarray(np.asarray(values, dtype=np.uint8), "L")


def colour(values) -> Image.Image:
    return Image.fromarray(np.asarray(values, dtype=np.uint8), "RGB")


# --- histogram_distance on hand-made histograms (no dependence on histogram()) ---------

def test_distance_is_l1_over_number_of_bins_by_hand():
    a = Histogram(("I",), np.array([[1.0, 0.0, 0.0, 0.0]]))
    b = Histogram(("I",), np.array([[0.5, 0.5, 0.0, 0.0]]))
    # |1-0.5| + |0-0.5| = 1.0 over 4 bins
    assert histogram_distance(a, b) == pytest.approx(0.25)
    assert histogram_distance(b, a) == pytest.approx(0.25)


def test_distance_counts_every_channel_bin():
    a = Histogram(("R", "G", "B"), np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    b = Histogram(("R", "G", "B"), np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
    # only R differs: |1-0| + |0-1| = 2 over 3 * 2 = 6 bins
    assert histogram_distance(a, b) == pytest.approx(2 / 6)


def test_distance_of_identical_histograms_is_zero():
    values = np.random.default_rng(0).dirichlet(np.ones(8), size=3)
    h = Histogram(("R", "G", "B"), values)
    assert histogram_distance(h, Histogram(h.channels, values.copy())) == 0.0


def test_distance_shape_mismatch_raises():
    a = Histogram(("I",), np.full((1, 4), 0.25))
    b = Histogram(("R", "G", "B"), np.full((3, 4), 0.25))
    c = Histogram(("I",), np.full((1, 8), 0.125))
    with pytest.raises(ValueError, match="shape"):
        histogram_distance(a, b)
    with pytest.raises(ValueError, match="shape"):
        histogram_distance(a, c)


def test_bins_property():
    assert Histogram(("I",), np.zeros((1, 7))).bins == 7


# --- histogram() and compare_histograms() ----------------------------------------------

def test_grey_histogram_has_one_channel_summing_to_one():
    h = histogram(grey(np.random.default_rng(0).integers(0, 256, (9, 11))), colour=False)
    assert h.channels == ("I",)
    assert h.values.shape == (1, DEFAULT_BINS)
    np.testing.assert_allclose(h.values.sum(axis=1), 1.0)


def test_colour_histogram_has_three_channels_summing_to_one():
    h = histogram(colour(np.random.default_rng(1).integers(0, 256, (9, 11, 3))), colour=True, bins=16)
    assert h.channels == ("R", "G", "B")
    assert h.values.shape == (3, 16)
    np.testing.assert_allclose(h.values.sum(axis=1), 1.0)


def test_histogram_bins_by_hand():
    # 4 bins of 64 levels: 0 and 63 -> bin 0, 64 -> bin 1, 255 -> bin 3
    h = histogram(grey([[0, 63, 64, 255]]), colour=False, bins=4)
    np.testing.assert_allclose(h.values, [[0.5, 0.25, 0.0, 0.25]])


def test_histogram_distance_by_hand_on_tiny_images():
    # all-black vs half black / half white, 4 bins: [1,0,0,0] vs [.5,0,0,.5] -> 1.0 / 4
    _, _, distance = compare_histograms(grey([[0, 0]]), grey([[0, 255]]), bins=4)
    assert distance == pytest.approx(0.25)


def test_compare_identical_images_is_zero():
    img = colour(np.random.default_rng(2).integers(0, 256, (6, 6, 3)))
    _, _, distance = compare_histograms(img, img.copy())
    assert distance == 0.0


def test_compare_uses_colour_when_either_is_colour():
    g, c = grey(np.zeros((4, 4))), colour(np.zeros((4, 4, 3)))
    hq, hr, _ = compare_histograms(g, c, bins=8)
    assert hq.channels == hr.channels == ("R", "G", "B")
    hq, hr, _ = compare_histograms(c, g, bins=8)
    assert hq.values.shape == hr.values.shape == (3, 8)
    hq, hr, _ = compare_histograms(g, g, bins=8)
    assert hq.channels == hr.channels == ("I",)


def test_colour_histogram_separates_channels():
    red = colour(np.tile([255, 0, 0], (2, 2, 1)))
    h = histogram(red, colour=True, bins=2)
    np.testing.assert_allclose(h.values, [[0, 1], [1, 0], [1, 0]])


def test_every_grey_level_lands_in_its_bin_without_uint8_overflow():
    # regression: ``pixels * bins`` once ran in uint8 (wrapping, then OverflowError on // 256)
    h = histogram(grey(np.arange(256).reshape(16, 16)), colour=False, bins=32)
    np.testing.assert_allclose(h.values, np.full((1, 32), 1 / 32))
    top = histogram(grey([[255, 255]]), colour=False)
    assert top.values[0, -1] == 1.0
