"""A drawing, normalised to the style of the edge maps the sketch models learned from: ink
bright on black, cropped to the drawing, squared, and its strokes thinned to one pixel, so
that neither the pen, the canvas size nor the ink colour changes what the models see.

``sketch_view`` reads one drawing of any size (the search path); ``normalise_inks`` does the
same to a batch of gallery-size ink maps (training and evaluation), so both see alike.

A photo of a drawing on paper (off-white, lit unevenly, a shadow across it) is read against
the paper as the photo queries' background model sees it (``photo.foreground.surface_fit``):
a smooth surface fitted to the paper, so a shadow is not ink. A dot or a tiny scribble is
refused with "draw more" rather than answered with confident results.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import BlankSketch
from ..photo.foreground import border_mask, surface_fit
from .edges import UPSCALE, thin_and_pool

INK_THRESHOLD = 0.25  # share of full ink above which a pixel counts as drawn
MIN_INK_PIXELS = 3  # fewer drawn pixels than this (at twice the gallery size) is a blank canvas
MIN_EXTENT = 0.08  # a drawing spanning less of the canvas's long side than this is a dot or a scribble
MIN_STROKE_PIXELS = 10  # fewer one-pixel stroke pixels than this at the gallery's size: too little to read
EVEN_PAPER = 0.06  # a border whose 5th-95th percentile spread is below this is evenly lit paper
PAPER_WORK_SIDE = 128  # the paper's surface is fitted on a copy this size
DRAW_MORE = "The sketch is too small to read: draw more (a bigger outline of the whole item)."
MAX_SQUARE_SIDE = 1024  # a bigger drawing is shrunk before it is squared: a long, thin one would square to gigapixels


@dataclass(frozen=True)
class SketchView:
    ink: np.ndarray  # float32 [S, S] in [0, 1], 1 = ink: what every mode takes
    image: Image.Image  # the same as a greyscale image (ink white on black), to show


def sketch_view(image: Image.Image, size: int) -> SketchView:
    """Normalise a drawing (any size, dark ink on light paper or the reverse) to the edge-map
    style the sketch models learned from; BlankSketch when nothing is drawn."""
    grey = image.convert("L")
    pixels = np.asarray(grey, dtype=np.float32) / 255.0
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    paper = float(np.median(border))
    surface = paper_surface(grey, border)
    light = paper > 0.5
    ink = (surface - pixels) / np.maximum(surface, 1e-6) if light else (pixels - surface) / np.maximum(1 - surface, 1e-6)
    drawn = np.clip(ink, 0, 1) > INK_THRESHOLD
    rows, cols = np.flatnonzero(drawn.any(1)), np.flatnonzero(drawn.any(0))
    if len(rows) == 0:
        raise BlankSketch("The canvas is blank: draw something first.")
    crop = np.clip(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 0, 1)
    side = max(crop.shape)
    if side < max(2, MIN_EXTENT * max(pixels.shape)):
        raise BlankSketch(DRAW_MORE)
    if side > MAX_SQUARE_SIDE:
        scale = MAX_SQUARE_SIDE / side
        crop = np.asarray(Image.fromarray(crop).resize((max(1, round(crop.shape[1] * scale)),
                                                        max(1, round(crop.shape[0] * scale))), Image.Resampling.BOX))
        side = max(crop.shape)
    square = np.zeros((side, side), np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    big = Image.fromarray(square).resize((size * UPSCALE,) * 2, Image.Resampling.BOX if side > size * UPSCALE
                                         else Image.Resampling.BILINEAR)
    mask = np.asarray(big) > INK_THRESHOLD
    if mask.sum() < MIN_INK_PIXELS:
        raise BlankSketch("The sketch is too faint or too small to read: draw a bigger, bolder outline.")
    thin = thin_and_pool(mask[None])[0]
    if (thin > 0.5).sum() < MIN_STROKE_PIXELS:
        raise BlankSketch(DRAW_MORE)
    return SketchView(ink=thin, image=Image.fromarray((thin * 255).round().astype(np.uint8), "L"))




def paper_surface(grey: Image.Image, border: np.ndarray) -> float | np.ndarray:
    """The paper's brightness: one value for evenly lit paper (a canvas), else a smooth surface
    fitted, as the photo background model fits one, to the paper of a small copy (the border,
    then every pixel that is not ink), brought back to full size."""
    low, high = np.quantile(border, [0.05, 0.95])
    if high - low < EVEN_PAPER:
        return float(np.median(border))
    small = grey.copy()
    small.thumbnail((PAPER_WORK_SIDE, PAPER_WORK_SIDE), Image.Resampling.BOX)
    values = np.asarray(small, dtype=np.float32)[..., None] / 255.0
    edge = border_mask(*values.shape[:2], max(2, round(0.05 * min(values.shape[:2]))))
    surface, fit = surface_fit(values, edge)
    ink = np.abs(values[..., 0] - surface[..., 0]) > max(3 * fit, 0.08)
    if (~ink).sum() > 50:
        surface, _ = surface_fit(values, ~ink, stride=2, cubic=True)
    full = Image.fromarray(np.clip(surface[..., 0], 0, 1).astype(np.float32), "F").resize(grey.size,
                                                                                         Image.Resampling.BILINEAR)
    return np.asarray(full)


def normalise_inks(inks: np.ndarray) -> np.ndarray:
    """``sketch_view`` of a batch of ink maps float [N, S, S] in [0, 1], batched: each is cropped
    to its ink, squared, resized to twice S, thresholded, thinned and pooled back to S. A map
    with nothing readable comes back empty (``sketch_view`` would refuse it)."""
    x = torch.from_numpy(np.ascontiguousarray(inks, dtype=np.float32))[:, None]
    n, _, size, _ = x.shape
    drawn = x[:, 0] > INK_THRESHOLD
    rows, cols = drawn.any(2), drawn.any(1)
    index = torch.arange(size)
    top, bottom = torch.where(rows, index, size).amin(1), torch.where(rows, index, -1).amax(1)
    left, right = torch.where(cols, index, size).amin(1), torch.where(cols, index, -1).amax(1)
    side = torch.maximum(bottom - top, right - left).clamp(min=0).float() + 1
    centre_y, centre_x = (top + bottom + 1).float() / 2, (left + right + 1).float() / 2
    zero, scale = torch.zeros(n), side / size
    theta = torch.stack([torch.stack([scale, zero, 2 * centre_x / size - 1], 1),
                         torch.stack([zero, scale, 2 * centre_y / size - 1], 1)], 1)
    grid = F.affine_grid(theta, [n, 1, size * UPSCALE, size * UPSCALE], align_corners=False)
    masks = (F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]
             > INK_THRESHOLD).numpy()
    readable = rows.any(1).numpy() & (masks.sum((1, 2)) >= MIN_INK_PIXELS)
    return thin_and_pool(masks & readable[:, None, None])
