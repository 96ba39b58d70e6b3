"""Stroke augmentation: makes clean edge maps look drawn by a person, so that a network
trained on edge maps transfers to real sketches.

Batched torch on ink maps [N, 1, S, S] in [0, 1] (1 = ink); every random draw comes from
the caller's generator, so a seed reproduces the same sketches.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class StrokeJitter:
    max_drop: float = 0.25  # up to this share of the ink area is erased (dropped and broken strokes)
    thicken_p: float = 0.35  # share of sketches drawn with a thicker line
    rotate_deg: float = 10.0
    scale: tuple[float, float] = (0.88, 1.08)
    shift_px: float = 2.0
    warp_px: float = 1.2  # amplitude of the smooth elastic displacement
    min_ink: float = 0.7  # pen pressure: ink intensity drawn from [min_ink, 1]


DEFAULT_JITTER = StrokeJitter()


def _rand(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=generator)


def _smooth_noise(generator: torch.Generator, n: int, channels: int, grid: int, size: int) -> torch.Tensor:
    """Uniform noise on a coarse grid, upsampled smoothly to ``size``: blobs of about size/grid px."""
    coarse = _rand(generator, n, channels, grid, grid)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)


def break_strokes(x: torch.Tensor, generator: torch.Generator, max_drop: float) -> torch.Tensor:
    """Erase blobs of ink: large ones drop whole strokes, small ones leave gaps in a line."""
    n, _, size, _ = x.shape
    rate = _rand(generator, n, 1, 1, 1) * max_drop
    large = _smooth_noise(generator, n, 1, 4, size) < rate
    small = _smooth_noise(generator, n, 1, max(size // 3, 2), size) < rate
    return x * ~(large | small)


def thicken(x: torch.Tensor, generator: torch.Generator, p: float) -> torch.Tensor:
    """A thicker pen for a share ``p`` of the sketches, at a random weight."""
    n = x.shape[0]
    weight = (_rand(generator, n, 1, 1, 1) < p) * _rand(generator, n, 1, 1, 1)
    return torch.maximum(x, F.max_pool2d(x, 3, stride=1, padding=1) * weight)


def warp(x: torch.Tensor, generator: torch.Generator, jitter: StrokeJitter) -> torch.Tensor:
    """A small rotation, scale change and shift, plus a smooth elastic displacement."""
    n, _, size, _ = x.shape
    angle = (_rand(generator, n) * 2 - 1) * math.radians(jitter.rotate_deg)
    low, high = jitter.scale
    scale = low + _rand(generator, n) * (high - low)
    shift = (_rand(generator, n, 2) * 2 - 1) * (2 * jitter.shift_px / size)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    elastic = (_smooth_noise(generator, n, 2, 4, size) * 2 - 1) * (2 * jitter.warp_px / size)
    grid = grid + elastic.permute(0, 2, 3, 1)
    return F.grid_sample(x, grid.to(x.device), mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_strokes(x: torch.Tensor, generator: torch.Generator, jitter: StrokeJitter = DEFAULT_JITTER) -> torch.Tensor:
    """Dropped and broken strokes, thickness jitter, warps and pen pressure, in that order
    (thickening before warping keeps thin lines from fading in the resampling)."""
    device = x.device
    x = x.detach().cpu().float()
    x = break_strokes(x, generator, jitter.max_drop)
    x = thicken(x, generator, jitter.thicken_p)
    x = warp(x, generator, jitter)
    pressure = jitter.min_ink + _rand(generator, x.shape[0], 1, 1, 1) * (1 - jitter.min_ink)
    x = x / x.amax(dim=(2, 3), keepdim=True).clamp(min=1e-6) * pressure
    return x.clamp(0, 1).to(device)


def drawn_sketches(edges: torch.Tensor, generator: torch.Generator, augment: bool = True) -> torch.Tensor:
    """Edge maps [N, 1, S, S] (0-1) as the sketch models see a drawing: stroke-augmented (unless
    ``augment`` is off), then normalised exactly as a drawing from the page is."""
    from .normalise import normalise_inks

    x = augment_strokes(edges, generator) if augment else edges
    return torch.from_numpy(normalise_inks(x[:, 0].cpu().numpy()))[:, None].to(edges.device)
