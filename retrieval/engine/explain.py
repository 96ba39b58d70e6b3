"""Histogram explanations: why a result is (or is not) close to the query in colour.

Histograms are normalised per channel (each sums to 1); the distance between two is
L1 divided by the number of bins, as in Staszewski et al.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

DEFAULT_BINS = 32
CHANNELS_RGB = ("R", "G", "B")
CHANNELS_GREY = ("I",)


@dataclass(frozen=True)
class Histogram:
    channels: tuple[str, ...]  # ("I",) or ("R", "G", "B")
    values: np.ndarray  # [channels, bins], each row sums to 1

    @property
    def bins(self) -> int:
        return self.values.shape[1]


def histogram(image: Image.Image, *, colour: bool, bins: int = DEFAULT_BINS) -> Histogram:
    """Per-channel normalised histogram: R, G, B when ``colour``, intensity otherwise."""
    if colour:
        pixels, channels = np.asarray(image.convert("RGB")), CHANNELS_RGB
    else:
        pixels, channels = np.asarray(image.convert("L"))[..., None], CHANNELS_GREY
    rows = []
    for c in range(len(channels)):
        counts = np.bincount(pixels[..., c].ravel().astype(np.int64) * bins // 256, minlength=bins).astype(np.float64)
        rows.append(counts / max(counts.sum(), 1.0))
    return Histogram(channels=channels, values=np.stack(rows))


def histogram_distance(a: Histogram, b: Histogram) -> float:
    """L1 distance divided by the total number of bins."""
    if a.values.shape != b.values.shape:
        raise ValueError(f"histograms differ in shape: {a.values.shape} vs {b.values.shape}")
    return float(np.abs(a.values - b.values).sum() / a.values.size)


def compare_histograms(
    query: Image.Image, result: Image.Image, *, bins: int = DEFAULT_BINS,
) -> tuple[Histogram, Histogram, float]:
    """Histograms of both in one space (colour if either is colour) and their distance."""
    colour = query.mode == "RGB" or result.mode == "RGB"
    hq, hr = histogram(query, colour=colour, bins=bins), histogram(result, colour=colour, bins=bins)
    return hq, hr, histogram_distance(hq, hr)
