"""The item's outline over the query, for "what the network sees"."""

import numpy as np
from PIL import Image
from scipy import ndimage

from .normalise import PhotoView


def mask_outline(view: PhotoView, width: int = 2, size: tuple[int, int] | None = None) -> np.ndarray:
    """bool [H, W]: the mask's edge, about ``width`` px wide, at ``size`` (width, height; default
    the query's resolution, or a thumbnail's)."""
    mask = view.query_mask() if size is None else Image.fromarray(view.mask.astype(np.uint8) * 255, "L").resize(
        size, Image.Resampling.NEAREST)
    mask = np.asarray(mask) > 0
    if not mask.any():
        return mask
    scale = max(1, round(width))
    return mask & ~ndimage.binary_erosion(mask, iterations=scale, border_value=0)


def outline_overlay(image: Image.Image, view: PhotoView, colour=(255, 64, 160), width: int = 2) -> Image.Image:
    """The query (RGB, at any size: the full query or a thumbnail of it) with the item's outline
    drawn over it; the query itself when no item was found."""
    rgb = np.array(image.convert("RGB"))
    if view.found and not view.gallery_style:
        rgb[mask_outline(view, width, size=image.size)] = colour
    return Image.fromarray(rgb, "RGB")
