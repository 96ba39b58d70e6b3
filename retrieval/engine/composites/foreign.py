"""Held-out composites: made the way a person makes one in an image editor, not the way the
builders make them (the source search was tuned on the builders' composites, so these tell
whether it generalises).

What differs from ``builders``:
- every source comes from its stored file at full resolution and its own aspect ratio (a stamp
  is not squeezed to a square), resized by Lanczos or bicubic (the builders: bilinear from the
  model side);
- the canvas is ``CANVAS`` times the model side (256 px for the stamps), saved as a JPEG of
  quality 75-95: the search reads it through the upload path (decoded, resized to the model side);
- blend: alphas from a flat Dirichlet, each at least 0.15 (the builders: Dirichlet(4), 0.2);
- collage: each image squeezed, fitted (letterboxed on the background colour) or cropped to fill
  its part (the builders only squeeze);
- paste: cut out with a magic wand (the near-plain pixels connected to the border, at another
  tolerance than the builders' mask), at any side from ``PASTE_SIDES`` anywhere on the canvas
  (each stamp left at least three quarters visible) on a real texture: a GIMP pattern, tiled (the
  builders: procedural textures, fixed slots, narrower sides).
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .builders import LAYOUTS_FOR, part_boxes

CANVAS = 4  # the canvas side in model sides
FILTERS = (Image.Resampling.LANCZOS, Image.Resampling.BICUBIC)
COLLAGE_MODES = ("squeeze", "fit", "fill")
PASTE_SIDES = {2: (0.28, 0.7), 3: (0.22, 0.55)}  # the longer side of a stamp, shares of the canvas
WAND = 0.06  # magic-wand tolerance (the builders' mask: 0.1)
MIN_SHOWN = 0.75  # share of each pasted stamp that stays visible (a person shows each source)
JPEG_QUALITY = (75, 95)


@dataclass(frozen=True)
class Made:
    data: bytes  # the composite as a JPEG file
    kind: str
    recipe: dict


def _float(picture: Image.Image, channels: int) -> np.ndarray:
    """[H, W, C] float32 in [0, 1]."""
    array = np.asarray(picture.convert("L" if channels == 1 else "RGB"), np.float32) / 255.0
    return array[..., None] if array.ndim == 2 else array


def _resized(picture: Image.Image, width: int, height: int, rng: np.random.Generator, channels: int) -> np.ndarray:
    image = picture.convert("L" if channels == 1 else "RGB")
    return _float(image.resize((max(1, width), max(1, height)), FILTERS[int(rng.integers(len(FILTERS)))]), channels)


def _blend(pictures, canvas: int, rng, channels: int) -> tuple[np.ndarray, dict]:
    alphas = np.maximum(rng.dirichlet(np.ones(len(pictures))), 0.15)
    alphas /= alphas.sum()
    out = sum(a * _resized(p, canvas, canvas, rng, channels) for a, p in zip(alphas, pictures, strict=True))
    return out, {"alphas": [round(float(a), 4) for a in alphas]}


def _into(picture, width: int, height: int, mode: str, rng, channels: int, background: float) -> np.ndarray:
    """``picture`` in a width x height part: squeezed, fitted (letterboxed) or cropped to fill.
    Written apart from ``collage_search.framed`` on purpose: the held-out maker must not share the
    search's geometry, or a mistake in it would cancel out in the evaluation."""
    if mode == "squeeze":
        return _resized(picture, width, height, rng, channels)
    w, h = picture.size
    scale = (min if mode == "fit" else max)(width / w, height / h)
    inner = _resized(picture, round(w * scale), round(h * scale), rng, channels)
    ih, iw = inner.shape[:2]
    if mode == "fill":
        y, x = (ih - height) // 2, (iw - width) // 2
        return inner[y:y + height, x:x + width]
    out = np.full((height, width, channels), background, np.float32)
    y, x = (height - ih) // 2, (width - iw) // 2
    out[y:y + ih, x:x + iw] = inner
    return out


def _collage(pictures, canvas: int, rng, channels: int, background: float) -> tuple[np.ndarray, dict]:
    layout = str(rng.choice(LAYOUTS_FOR[len(pictures)]))
    mode = str(rng.choice(COLLAGE_MODES))
    out = np.full((canvas, canvas, channels), background, np.float32)
    for i, (x0, y0, x1, y1) in enumerate(part_boxes(layout, canvas)):
        out[y0:y1, x0:x1] = _into(pictures[i % len(pictures)], x1 - x0, y1 - y0, mode, rng, channels, background)
    return out, {"layout": layout, "mode": mode}


def wand_mask(array: np.ndarray, background: float, tolerance: float = WAND) -> np.ndarray:
    """[H, W] bool: what a magic wand clicked on the plain background leaves selected once
    inverted: every pixel but the near-background ones connected to the border."""
    plain = np.abs(array - background).max(axis=-1) <= tolerance
    labels, _ = ndimage.label(plain)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return ~np.isin(labels, border[border > 0])


def tiled(pattern: np.ndarray, canvas: int, rng, channels: int) -> np.ndarray:
    """A texture [h, w, 3] uint8 tiled over the canvas from a random offset, [S, S, C] in [0, 1]."""
    h, w = pattern.shape[:2]
    reps = (canvas // h + 2, canvas // w + 2, 1)
    y, x = int(rng.integers(h)), int(rng.integers(w))
    big = np.tile(pattern, reps)[y:y + canvas, x:x + canvas]
    return _float(Image.fromarray(big), channels)


def _placements(masks, canvas: int, height: int, rng, n: int) -> list[tuple[int, int]] | None:
    """Top-left corners on a canvas x height canvas that leave each stamp at least ``MIN_SHOWN``
    visible (later ones on top), or None when 50 tries find none (the sizes are then drawn again)."""
    if any(m.shape[0] > height for m in masks):
        return None
    for _ in range(50):
        corners = [(int(rng.integers(0, canvas - m.shape[1] + 1)), int(rng.integers(0, height - m.shape[0] + 1)))
                   for m in masks]
        cover = np.zeros((n, height, canvas), bool)
        for i, ((x, y), m) in enumerate(zip(corners, masks, strict=True)):
            cover[:i, y:y + m.shape[0], x:x + m.shape[1]] &= ~m
            cover[i, y:y + m.shape[0], x:x + m.shape[1]] = m
        if all(cover[i].sum() >= MIN_SHOWN * m.sum() for i, m in enumerate(masks)):
            return corners
    return None


def _cut_outs(pictures, wands, canvas: int, rng, channels: int):
    """Each picture resized to a longer side drawn from ``PASTE_SIDES`` with its magic-wand alpha."""
    stamps, masks = [], []
    for picture, mask in zip(pictures, wands, strict=True):
        w, h = picture.size
        scale = rng.uniform(*PASTE_SIDES[len(pictures)]) * canvas / max(w, h)
        width, height = max(2, round(w * scale)), max(2, round(h * scale))
        filt = FILTERS[int(rng.integers(len(FILTERS)))]
        alpha = np.asarray(Image.fromarray(mask.astype(np.float32), "F").resize((width, height), filt), np.float32)
        stamps.append(_resized(picture, width, height, rng, channels))
        masks.append(np.clip(alpha, 0, 1))
    return stamps, masks


def _paste(pictures, canvas: int, height: int, rng, channels: int, background: float, textures) -> tuple[np.ndarray, dict]:
    texture = int(rng.integers(len(textures)))
    out = tiled(textures[texture], canvas, rng, channels)[:height]
    wands = [wand_mask(_float(picture, 3), 1.0 if background else 0.0) for picture in pictures]  # once, at full size
    for _ in range(100):  # big stamps may not fit side by side: draw their sizes again
        stamps, masks = _cut_outs(pictures, wands, canvas, rng, channels)
        corners = _placements([m > 0.5 for m in masks], canvas, height, rng, len(pictures))
        if corners is not None:
            break
    else:
        raise ValueError("no sizes and places leave every stamp visible")
    for (x, y), stamp, alpha in zip(corners, stamps, masks, strict=True):
        h, w = alpha.shape
        a = alpha[..., None]
        out[y:y + h, x:x + w] = out[y:y + h, x:x + w] * (1 - a) + stamp * a
    return out, {"texture": texture, "boxes": [[x, y, x + m.shape[1], y + m.shape[0]] for (x, y), m in
                                               zip(corners, masks, strict=True)]}


def foreign_composite(kind: str, pictures, rng: np.random.Generator, *, side: int, channels: int, background: float,
                      textures=(), aspect: float = 1.0) -> Made:
    """A held-out composite of ``kind`` from ``pictures`` (PIL images at their stored size), on a
    canvas ``CANVAS`` x ``side`` px wide, as JPEG bytes. Pastes need ``textures`` (uint8 [h, w, 3])
    and may be made on a wide canvas (``aspect``: its width over its height, at least 1; the
    stamps' sides are still shares of its width)."""
    canvas = CANVAS * side
    if aspect != 1.0 and (kind != "paste" or aspect < 1):
        raise ValueError("only pastes are made on a canvas that is not square, and only a wide one")
    height = round(canvas / aspect)
    if kind == "blend":
        image, recipe = _blend(pictures, canvas, rng, channels)
    elif kind == "collage":
        image, recipe = _collage(pictures, canvas, rng, channels, background)
    elif kind == "paste":
        if not len(textures):
            raise ValueError("pastes need textures to paste on")
        image, recipe = _paste(pictures, canvas, height, rng, channels, background, textures)
    else:
        raise ValueError(f"unknown composite kind {kind!r}")
    data = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    picture = Image.fromarray(data[..., 0] if channels == 1 else data, "L" if channels == 1 else "RGB")
    quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return Made(buffer.getvalue(), kind, {**recipe, "quality": quality, "canvas": canvas, "height": height})


def gimp_patterns(folder=None) -> list[np.ndarray]:
    """GIMP's patterns at their own size as uint8 RGB (``make run`` installs them); scikit-image's
    brick, grass and gravel where none are installed."""
    from ..texture.patterns import GIMP_PATTERNS, read_pat, skimage_textures, to_rgb

    files = sorted((folder or GIMP_PATTERNS).rglob("*.pat")) if (folder or GIMP_PATTERNS).exists() else []
    patterns = [to_rgb(read_pat(path.read_bytes()).pixels) for path in files]
    return patterns or [t.image for t in skimage_textures()]
