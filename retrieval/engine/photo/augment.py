"""Photo-like images made from gallery items: the photo descriptor's augmentation, and (with
another style, seed and background kinds) the photo evaluation's queries.

A 28 px gallery item (light on black) becomes a photo: its intensity is the shading of a
coloured item (a colour times a shade curve of the intensity, lit by a gentle gradient; or,
for some, the reverse curve, as a dark product photographed), scaled and moved on a canvas
of some background kind, its edge soft where the item's intensity fades, with sensor noise,
then JPEG-compressed. ``photo_batch`` then sends it through the query normalisation, so the
network learns from exactly what a query photo becomes.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .backgrounds import AUGMENT_KINDS, background, hsv_to_rgb, random_colour
from .normalise import normalise_photo


@dataclass(frozen=True)
class PhotoStyle:
    """The distributions a photo's parameters are drawn from (uniform over each range)."""

    kinds: tuple[str, ...]  # background kinds, drawn uniformly
    canvas: tuple[int, int]  # long side of the canvas, px
    aspect: tuple[float, float]  # width / height
    scale: tuple[float, float]  # item's long side as a share of the canvas's short side
    shade_floor: tuple[float, float]  # the shade of the item's darkest pixels, as a share of its colour
    gamma: tuple[float, float]  # shade curve exponent
    reverse_share: float  # share of items shaded the reverse way (dark where the gallery is light)
    light: tuple[float, float]  # the lighting gradient's dark end
    noise: tuple[float, float]  # sensor noise sigma
    jpeg: tuple[int, int]  # JPEG quality
    palette: tuple[tuple[float, float, float], ...] = ()  # HSV colours to jitter around (empty: any colour)


# Wide ranges on purpose: a shop photo's framing, lighting and compression vary more than any
# one photographer's (the held-out background kinds stay out: see ``backgrounds``).
TRAIN_STYLE = PhotoStyle(kinds=AUGMENT_KINDS, canvas=(72, 160), aspect=(0.7, 1.4), scale=(0.3, 0.9),
                         shade_floor=(0.1, 0.7), gamma=(0.5, 1.8), reverse_share=0.3, light=(0.5, 1.0),
                         noise=(0.0, 0.05), jpeg=(20, 95))


def compose_photo(item: np.ndarray, style: PhotoStyle, rng: np.random.Generator,
                  kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo [H, W, 3], its true item mask bool [H, W]) of one uint8 gallery item [28, 28]."""
    long_side = int(rng.integers(style.canvas[0], style.canvas[1] + 1))
    aspect = rng.uniform(*style.aspect)
    width, height = (long_side, max(16, round(long_side / aspect))) if aspect >= 1 else (
        max(16, round(long_side * aspect)), long_side)
    canvas = background(kind or style.kinds[int(rng.integers(len(style.kinds)))], height, width, rng)
    side = max(8, round(rng.uniform(*style.scale) * min(height, width)))
    g = np.asarray(Image.fromarray(item).resize((side, side), Image.Resampling.BILINEAR), np.float32) / 255.0
    colour = item_colour(style, rng)
    shade = np.clip(g, 0, 1) ** rng.uniform(*style.gamma)
    if rng.uniform() < style.reverse_share:
        shade = 1.0 - shade
    floor = rng.uniform(*style.shade_floor)
    lit = lighting(side, rng.uniform(*style.light), rng)
    rgb = colour * (floor + (1 - floor) * shade)[..., None] * lit[..., None]
    alpha = np.clip((g - 0.04) / 0.12, 0, 1)[..., None]
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    window = canvas[top:top + side, left:left + side]
    canvas[top:top + side, left:left + side] = alpha * rgb + (1 - alpha) * window
    mask = np.zeros((height, width), bool)
    mask[top:top + side, left:left + side] = alpha[..., 0] >= 0.5
    noisy = canvas + rng.normal(0, rng.uniform(*style.noise), canvas.shape)
    photo = np.rint(np.clip(noisy, 0, 1) * 255).astype(np.uint8)
    return jpeg_roundtrip(photo, int(rng.integers(style.jpeg[0], style.jpeg[1] + 1))), mask


def photo_batch(items: np.ndarray, style: PhotoStyle, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """Each uint8 item [N, 28, 28] as a photo, normalised as a query is: uint8 [N, size, size]."""
    out = np.empty((len(items), size, size), np.uint8)
    for i, item in enumerate(items):
        photo, _ = compose_photo(item, style, rng)
        out[i] = np.asarray(normalise_photo(Image.fromarray(photo), size).image)
    return out


def item_colour(style: PhotoStyle, rng: np.random.Generator) -> np.ndarray:
    if not style.palette:
        return random_colour(rng, value=(0.2, 1.0))
    h, s, v = style.palette[int(rng.integers(len(style.palette)))]
    return hsv_to_rgb((h + rng.normal(0, 0.02)) % 1.0, float(np.clip(s + rng.normal(0, 0.08), 0, 1)),
                      float(np.clip(v + rng.normal(0, 0.08), 0.05, 1)))


def lighting(side: int, dark_end: float, rng: np.random.Generator) -> np.ndarray:
    """A linear light falloff across the item, from 1 to ``dark_end``, in a random direction."""
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:side, 0:side] / max(side - 1, 1) - 0.5
    t = np.clip(np.cos(angle) * xx + np.sin(angle) * yy + 0.5, 0, 1)
    return (1 - (1 - dark_end) * t).astype(np.float32)


def jpeg_roundtrip(photo: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
