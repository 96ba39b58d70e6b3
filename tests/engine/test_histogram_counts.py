"""Stored pixel counts give exactly the histograms computed from the image."""

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.explain import from_counts, histogram, pixel_counts


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("colour", [False, True])
def test_counts_then_normalised_equal_the_histogram(mode, colour):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (17, 23, 3) if mode == "RGB" else (17, 23), dtype=np.uint8), mode)
    counts = pixel_counts(np.asarray(image))
    assert counts.dtype == np.uint32 and counts.shape == ((3 if mode == "RGB" else 1), 32)
    assert counts.sum() == image.width * image.height * (3 if mode == "RGB" else 1)
    made = from_counts(counts, colour=colour)
    if mode == "RGB" and not colour:
        assert made is None  # intensity is not a function of per-channel counts
        return
    expected = histogram(image, colour=colour)
    np.testing.assert_array_equal(made.values, expected.values)
    assert made.channels == expected.channels
