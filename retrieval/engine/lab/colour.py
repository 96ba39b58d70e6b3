"""Colour histograms: the lab's baseline descriptor and its measure of colour closeness.

Per-channel histograms (R, G, B, or intensity for greyscale galleries), each summing to 1,
concatenated; compared by L1 divided by the number of bins, as Staszewski et al. compare
query and results (about 25 bins per channel).
"""

import numpy as np
from PIL import Image

from ..explain import histogram

MEASURE_BINS = 25  # the evaluation's histograms (the paper: "about 25 bins per channel")
BASELINE_BINS = 16  # the baseline descriptor's: not the measure itself, so it does not grade its own answer


def histogram_vectors(images: list[Image.Image], *, colour: bool, bins: int = MEASURE_BINS) -> np.ndarray:
    """[N, channels * bins] float32: each image's per-channel histograms, concatenated."""
    width = (3 if colour else 1) * bins
    if not images:
        return np.zeros((0, width), np.float32)
    return np.stack([histogram(img, colour=colour, bins=bins).values.ravel() for img in images]).astype(np.float32)
