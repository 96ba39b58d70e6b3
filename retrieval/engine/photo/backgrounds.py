"""Backgrounds for photo-like images, by kind, each drawn from a numpy generator.

Synthetic kinds (solid, gradient, radial, noise, stripes, checker) and packaged ones:
scikit-image's bundled textures (brick, grass, gravel) and GIMP's patterns. GIMP's
patterns are split in two by position in their sorted list (even: ``pattern``, odd:
``pattern_unseen``), so one kind's textures can be held out of training.

``TRAIN_KINDS`` are what the photo descriptor learns from; ``HELD_OUT_KINDS`` are kept for
the evaluation only, to measure whether it generalises to backgrounds it never saw.
"""

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from PIL import Image

from .patterns import load_patterns

TRAIN_KINDS = ("solid", "gradient", "noise", "stripes", "pattern")
HELD_OUT_KINDS = ("radial", "checker", "texture", "pattern_unseen")
KINDS = TRAIN_KINDS + HELD_OUT_KINDS
# Drawn by the training augmentation only (not by the evaluation, whose queries cycle through KINDS).
AUGMENT_KINDS = TRAIN_KINDS + ("clouds",)
SKIMAGE_TEXTURES = ("brick", "grass", "gravel")


def background(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A float32 [height, width, 3] background in [0, 1] of ``kind``."""
    if kind not in _MAKERS:
        raise ValueError(f"unknown background kind {kind!r} (choose from {', '.join(KINDS)})")
    return np.clip(_MAKERS[kind](height, width, rng), 0, 1).astype(np.float32)


def random_colour(rng: np.random.Generator, saturation=(0.0, 1.0), value=(0.05, 1.0)) -> np.ndarray:
    """An RGB colour from uniform hue and the given saturation and value ranges."""
    return hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value))


def hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i, f = int(h * 6) % 6, h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i], np.float32)


# --- the kinds --------------------------------------------------------------------------------

def _solid(h, w, rng):
    return np.broadcast_to(random_colour(rng), (h, w, 3)).copy()


def _gradient(h, w, rng):
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    a, b = random_colour(rng), random_colour(rng)
    return a + (b - a) * t[..., None]


def _radial(h, w, rng):  # a vignette or a spot light: brightest off-centre, darker at the edges
    cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / max(h, w)
    centre, edge = random_colour(rng, value=(0.4, 1.0)), random_colour(rng, value=(0.0, 0.7))
    t = np.clip(r / rng.uniform(0.5, 0.9), 0, 1)[..., None]
    return centre + (edge - centre) * t


def _noise(h, w, rng):
    base, sigma = random_colour(rng), rng.uniform(0.05, 0.25)
    grain = rng.normal(0, sigma, (h, w, 1 if rng.uniform() < 0.5 else 3))
    return base + grain


def _clouds(h, w, rng):  # soft blotches of two colours: a cloth, a wall, a blurred scene behind the item
    cells = int(rng.integers(3, 9))
    coarse = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
    t = np.asarray(Image.fromarray(coarse, "F").resize((w, h), Image.Resampling.BICUBIC))[..., None]
    a, b = random_colour(rng), random_colour(rng)
    return a + (b - a) * np.clip(t, 0, 1)


def _stripes(h, w, rng):
    period, angle = rng.uniform(4, 24) * max(h, w) / 128, rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    phase = (np.cos(angle) * xx + np.sin(angle) * yy) / period
    on = (np.floor(phase) % 2)[..., None]
    a, b = random_colour(rng), random_colour(rng)
    return a + (b - a) * on


def _checker(h, w, rng):
    cell = rng.uniform(6, 24) * max(h, w) / 128
    yy, xx = np.mgrid[0:h, 0:w]
    on = ((np.floor(yy / cell) + np.floor(xx / cell)) % 2)[..., None]
    a, b = random_colour(rng), random_colour(rng)
    return a + (b - a) * on


def _texture(h, w, rng):
    grey = _skimage_textures()[int(rng.integers(len(SKIMAGE_TEXTURES)))]
    tint = random_colour(rng, saturation=(0.0, 0.7), value=(0.6, 1.0))
    return crop_tiled(grey, h, w, rng, zoom=rng.uniform(0.25, 1.0))[..., None] * tint * rng.uniform(0.7, 1.3)


def _pattern(h, w, rng, odd: bool = False):
    patterns = _gimp_patterns()[int(odd)::2]
    if not patterns:  # gimp-data not installed: fall back to a tinted noise texture, still patterned
        return _noise(h, w, rng)
    pixels = patterns[int(rng.integers(len(patterns)))]
    return crop_tiled(pixels, h, w, rng, zoom=rng.uniform(0.5, 1.5)) * rng.uniform(0.7, 1.2)


_MAKERS: dict[str, Callable] = {
    "solid": _solid, "gradient": _gradient, "radial": _radial, "noise": _noise, "stripes": _stripes,
    "checker": _checker, "texture": _texture, "clouds": _clouds, "pattern": _pattern,
    "pattern_unseen": lambda h, w, rng: _pattern(h, w, rng, odd=True),
}


# --- packaged textures, read once ---------------------------------------------------------------

@lru_cache(maxsize=1)
def _skimage_textures() -> tuple[np.ndarray, ...]:
    import skimage.data

    return tuple(getattr(skimage.data, name)().astype(np.float32) / 255.0 for name in SKIMAGE_TEXTURES)


@lru_cache(maxsize=1)
def _gimp_patterns() -> tuple[np.ndarray, ...]:
    return tuple(pixels.astype(np.float32) / 255.0 for _, pixels in load_patterns())


def crop_tiled(texture: np.ndarray, h: int, w: int, rng: np.random.Generator, zoom: float = 1.0) -> np.ndarray:
    """An h x w window of ``texture`` tiled (patterns tile seamlessly), sampled every 1/zoom
    pixels from a random offset (nearest sampling: cheap, and the photo is blurred later)."""
    th, tw = texture.shape[:2]
    y0, x0 = rng.integers(th), rng.integers(tw)
    ys = (y0 + (np.arange(h) / zoom).astype(int)) % th
    xs = (x0 + (np.arange(w) / zoom).astype(int)) % tw
    return texture[ys[:, None], xs[None, :]]
