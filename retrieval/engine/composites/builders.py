"""Composites with known sources, made by pure seeded functions: blend (an alpha mix of 2-3
images), collage (each source resized into its part: halves, thirds, quadrants) and paste
(cut-outs placed on a texture or on another image at chosen positions and scales).

Images are float32 arrays [C, S, S] in [0, 1], all of one size. Every composite records each
source (its position in the list it was given), its weight and the region of the composite
it occupies: a mask [S, S] of how much of each pixel comes from it, and its bounding box.
"""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from .textures import TEXTURES, texture

KINDS = ("blend", "collage", "paste")
LAYOUTS = {  # parts as (x0, y0, x1, y1) in units of the side
    "halves": ((0, 0, .5, 1), (.5, 0, 1, 1)),
    "halves_stacked": ((0, 0, 1, .5), (0, .5, 1, 1)),
    "thirds": ((0, 0, 1 / 3, 1), (1 / 3, 0, 2 / 3, 1), (2 / 3, 0, 1, 1)),
    "thirds_stacked": ((0, 0, 1, 1 / 3), (0, 1 / 3, 1, 2 / 3), (0, 2 / 3, 1, 1)),
    "quadrants": ((0, 0, .5, .5), (.5, 0, 1, .5), (0, .5, .5, 1), (.5, .5, 1, 1)),
}
LAYOUTS_FOR = {2: ("halves", "halves_stacked", "quadrants"), 3: ("thirds", "thirds_stacked", "quadrants")}


@dataclass(frozen=True)
class Source:
    position: int  # index into the images the composite was made from
    weight: float  # blend alpha, or the share of the composite's pixels it shows
    mask: np.ndarray  # [S, S] in [0, 1]: how much of each composite pixel comes from this source
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) of the mask's support, x1/y1 exclusive
    role: str = "source"  # "background" for the image stamps were pasted on


@dataclass(frozen=True)
class Composite:
    image: np.ndarray  # [C, S, S] float32 in [0, 1]
    kind: str
    sources: tuple[Source, ...]
    recipe: dict = field(default_factory=dict)  # everything needed to build it again


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask > 1e-3)
    if len(xs) == 0:
        return (0, 0, 0, 0)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def _check(images) -> tuple[int, int]:
    shapes = {tuple(np.shape(i)) for i in images}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3:
        raise ValueError(f"composites need images of one shape [C, S, S], got {sorted(shapes)}")
    c, h, w = next(iter(shapes))
    if h != w:
        raise ValueError("composite images must be square")
    return c, h


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """[C, H, W] -> [C, height, width] (bilinear, per channel; exact when the size is unchanged)."""
    if image.shape[1:] == (height, width):
        return image.astype(np.float32)
    return np.stack([np.asarray(Image.fromarray(ch.astype(np.float32), "F").resize((width, height), Image.Resampling.BILINEAR))
                     for ch in image]).astype(np.float32)


def blend(images, alphas=None) -> Composite:
    """The alpha mix sum_i alpha_i x_i of 2-3 images (alphas normalised to sum 1; equal by default)."""
    _check(images)
    n = len(images)
    if not 2 <= n <= 3:
        raise ValueError("a blend mixes 2 or 3 images")
    alphas = np.full(n, 1 / n) if alphas is None else np.asarray(alphas, np.float64)
    if alphas.shape != (n,) or (alphas < 0).any() or alphas.sum() <= 0:
        raise ValueError("one non-negative alpha per image, not all zero")
    alphas = alphas / alphas.sum()
    image = sum(float(a) * np.asarray(x, np.float32) for a, x in zip(alphas, images, strict=True))
    size = images[0].shape[-1]
    sources = tuple(Source(i, float(a), np.full((size, size), float(a), np.float32), (0, 0, size, size))
                    for i, a in enumerate(alphas))
    return Composite(np.clip(image, 0, 1).astype(np.float32), "blend", sources, {"alphas": [float(a) for a in alphas]})


def collage(images, layout: str) -> Composite:
    """Each image resized into one part of ``layout``; with more parts than images the images
    repeat in turn (quadrants of three: A B / C A)."""
    c, size = _check(images)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    parts = LAYOUTS[layout]
    if not 2 <= len(images) <= len(parts):
        raise ValueError(f"{layout} takes 2 to {len(parts)} images")
    out = np.zeros((c, size, size), np.float32)
    masks = np.zeros((len(images), size, size), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(part_boxes(layout, size)):
        owner = i % len(images)
        out[:, y0:y1, x0:x1] = resize(np.asarray(images[owner], np.float32), x1 - x0, y1 - y0)
        masks[owner, y0:y1, x0:x1] = 1
    sources = tuple(Source(i, float(m.mean()), m, _box(m)) for i, m in enumerate(masks))
    return Composite(out, "collage", sources, {"layout": layout})


def part_boxes(layout: str, size: int) -> list[tuple[int, int, int, int]]:
    return [(round(x0 * size), round(y0 * size), round(x1 * size), round(y1 * size)) for x0, y0, x1, y1 in LAYOUTS[layout]]


def cutout_mask(image: np.ndarray, background: float, threshold: float = 0.1) -> np.ndarray:
    """The object's mask of an image on a plain background (1.0 white, 0.0 black): pixels away
    from the background colour, holes filled (a white belly stays part of the animal)."""
    far = np.abs(np.asarray(image, np.float32) - background).max(axis=0) > threshold
    return ndimage.binary_fill_holes(far).astype(np.float32)


def paste(stamps, masks, placements, background) -> Composite:
    """Stamp i (its mask = its alpha cut-out) resized to ``scale * S`` and placed with its top-left
    corner at (x, y) in ``placements[i] = (x, y, scale)``, in order (later stamps cover earlier
    ones), on ``background``: an image [C, S, S] (a source too, its region what stays visible),
    or a texture name with its seed as ``("noise", 7)``."""
    c, size = _check(stamps)
    if len(masks) != len(stamps) or len(placements) != len(stamps) or not stamps:
        raise ValueError("one mask and one placement per stamp")
    if isinstance(background, tuple):
        name, seed = background
        if name not in TEXTURES:
            raise ValueError(f"unknown texture {name!r}")
        out, bg_image = texture(name, size, c, int(seed)), None
    else:
        _check([stamps[0], background])
        out, bg_image = np.asarray(background, np.float32).copy(), background
    cover = np.zeros((len(stamps), size, size), np.float32)
    for i, ((x, y, scale), stamp, mask) in enumerate(zip(placements, stamps, masks, strict=True)):
        side = max(2, round(scale * size))
        x, y = int(x), int(y)
        if side > size or not (0 <= x <= size - side and 0 <= y <= size - side):
            raise ValueError(f"stamp {i} at ({x}, {y}) of side {side} leaves the {size} px canvas")
        patch = resize(np.asarray(stamp, np.float32), side, side)
        alpha = np.clip(resize(np.asarray(mask, np.float32)[None], side, side)[0], 0, 1)
        region = out[:, y:y + side, x:x + side]
        out[:, y:y + side, x:x + side] = region * (1 - alpha) + patch * alpha
        cover[:, y:y + side, x:x + side] *= 1 - alpha  # what this stamp hides of the earlier ones
        cover[i, y:y + side, x:x + side] = alpha
    sources = [Source(i, float(m.mean()), m, _box(m)) for i, m in enumerate(cover)]
    recipe = {"placements": [list(map(float, p)) for p in placements]}
    if bg_image is not None:
        rest = np.clip(1 - cover.sum(0), 0, 1)
        sources.append(Source(len(stamps), float(rest.mean()), rest, _box(rest), role="background"))
    else:
        recipe["texture"] = [background[0], int(background[1])]
    return Composite(np.clip(out, 0, 1).astype(np.float32), "paste", tuple(sources), recipe)


SCALES_FOR = {1: (0.5, 0.75), 2: (0.4, 0.6), 3: (0.35, 0.5), 4: (0.3, 0.45)}


def random_placements(count: int, size: int, rng: np.random.Generator, scale_range=None) -> list:
    """Positions and scales for ``count`` stamps, spread over the canvas (one slot each, jittered)
    so that they overlap little; sides drawn from ``SCALES_FOR[count]`` by default."""
    scale_range = scale_range or SCALES_FOR[count]
    slots = {1: [(.5, .5)], 2: [(.28, .5), (.72, .5)], 3: [(.27, .3), (.73, .3), (.5, .73)],
             4: [(.27, .27), (.73, .27), (.27, .73), (.73, .73)]}[count]
    out = []
    for cx, cy in rng.permutation(np.array(slots)):
        side = round(rng.uniform(*scale_range) * size)
        x = int(np.clip(round(cx * size - side / 2 + rng.uniform(-.06, .06) * size), 0, size - side))
        y = int(np.clip(round(cy * size - side / 2 + rng.uniform(-.06, .06) * size), 0, size - side))
        out.append((x, y, side / size))
    return out


def random_composite(kind: str, images, rng: np.random.Generator, *, background: float = 1.0) -> Composite:
    """A composite of ``kind`` from ``images`` with its parameters drawn from ``rng``: blend alphas
    of at least 0.2, a collage layout that fits the count, stamps on a seeded texture."""
    n = len(images)
    if kind == "blend":
        alphas = rng.dirichlet(np.full(n, 4.0))
        alphas = np.maximum(alphas, 0.2)
        return blend(images, alphas / alphas.sum())
    if kind == "collage":
        return collage(images, str(rng.choice(LAYOUTS_FOR[n])))
    if kind == "paste":
        size = images[0].shape[-1]
        masks = [cutout_mask(x, background) for x in images]
        bg = (str(rng.choice(TEXTURES)), int(rng.integers(0, 2**31)))
        return paste(images, masks, random_placements(n, size, rng), bg)
    raise ValueError(f"unknown composite kind {kind!r} (choose from {', '.join(KINDS)})")
