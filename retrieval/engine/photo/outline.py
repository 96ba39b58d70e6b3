"""The item's outline over the query, for "what the network sees"."""

import numpy as np
from PIL import Image
from scipy import ndimage

from .normalise import PhotoView


def mask_outline(view: PhotoView, width: int = 2) -> np.ndarray:
    """bool [H, W] at the query's resolution: the mask's edge, about ``width`` px wide."""
    mask = np.asarray(view.query_mask()) > 0
    if not mask.any():
        return mask
    scale = max(1, round(width))
    return mask & ~ndimage.binary_erosion(mask, iterations=scale, border_value=0)


def outline_overlay(image: Image.Image, view: PhotoView, colour=(255, 64, 160), width: int = 2) -> Image.Image:
    """The query (RGB) with the item's outline drawn over it; the query itself when no item was found."""
    rgb = np.array(image.convert("RGB"))
    if view.found and not view.gallery_style:
        rgb[mask_outline(view, width)] = colour
    return Image.fromarray(rgb, "RGB")
