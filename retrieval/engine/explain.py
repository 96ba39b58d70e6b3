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
    pixels = np.asarray(image.convert("RGB")) if colour else np.asarray(image.convert("L"))
    return from_counts(pixel_counts(pixels, bins), colour=colour)


def pixel_counts(pixels: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Pixel counts per bin [channels, bins] (uint32) of a [H, W] grey or [H, W, 3] RGB array:
    what a gallery stores with each image, so that explaining a hit opens no file."""
    planes = pixels[..., None] if pixels.ndim == 2 else pixels
    return np.stack([np.bincount(planes[..., c].ravel().astype(np.int64) * bins // 256, minlength=bins)
                     for c in range(planes.shape[-1])]).astype(np.uint32)


def from_counts(counts: np.ndarray, *, colour: bool) -> Histogram | None:
    """The normalised histogram in the asked space, from ``pixel_counts``: a grey image's
    colour histogram is its intensity histogram in each channel (R = G = B). None when a grey
    histogram is asked of a colour image's counts (intensity is not a function of them)."""
    if colour and counts.shape[0] == 1:
        counts = np.repeat(counts, 3, axis=0)
    elif not colour and counts.shape[0] != 1:
        return None
    totals = np.maximum(counts.sum(axis=1, keepdims=True), 1).astype(np.float64)
    return Histogram(channels=CHANNELS_RGB if colour else CHANNELS_GREY, values=counts.astype(np.float64) / totals)


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
