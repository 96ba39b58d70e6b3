"""Seeded procedural textures to paste stamps on: smooth colour noise, stripes, checks, gradients.

Every texture is a float32 array [C, S, S] in [0, 1], a pure function of the seed."""

import numpy as np

TEXTURES = ("noise", "stripes", "checks", "gradient")


def _palette(rng: np.random.Generator, channels: int, count: int) -> np.ndarray:
    return rng.uniform(0.15, 0.95, (count, channels)).astype(np.float32)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    coarse = rng.uniform(0, 1, (cells + 1, cells + 1)).astype(np.float32)
    axis = np.linspace(0, cells, size, dtype=np.float32)
    i0 = np.minimum(axis.astype(int), cells - 1)
    t = axis - i0
    rows = coarse[i0] * (1 - t)[:, None] + coarse[i0 + 1] * t[:, None]
    return rows[:, i0] * (1 - t)[None, :] + rows[:, i0 + 1] * t[None, :]


def texture(name: str, size: int, channels: int, seed: int) -> np.ndarray:
    """The texture ``name`` (one of ``TEXTURES``) drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    a, b = _palette(rng, channels, 2)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    if name == "noise":
        t = _smooth_noise(rng, size, int(rng.integers(3, 8)))
    elif name == "stripes":
        angle, period = rng.uniform(0, np.pi), rng.uniform(6, 16) * size / 64
        t = (np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period) > 0).astype(np.float32)
    elif name == "checks":
        cell = max(2, int(rng.integers(5, 12) * size / 64))
        t = (((xx // cell) + (yy // cell)) % 2).astype(np.float32)
    elif name == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(angle) + yy * np.sin(angle)
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    else:
        raise ValueError(f"unknown texture {name!r} (choose from {', '.join(TEXTURES)})")
    grain = rng.normal(0, 0.03, (channels, size, size)).astype(np.float32)
    out = a[:, None, None] * (1 - t)[None] + b[:, None, None] * t[None] + grain
    return np.clip(out, 0, 1).astype(np.float32)
