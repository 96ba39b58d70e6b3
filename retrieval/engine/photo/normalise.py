"""A query photo brought to the gallery's look: the item found on its background, cropped,
placed as Fashion-MNIST places its items, light on black.

Fashion-MNIST (measured on the 60,000 training images' idx arrays): every item fills the
28 px frame on its long side (long side 28 px for 95% of them, 27 for most of the rest),
centred on its bounding box (centre 13.5, 13.5), aspect kept; its pixels' median is 172
and its 98th percentile 239, on exact black. A photo is worked on as a small copy
(``WORK_SIDE`` px on its long side), so the cost hardly depends on its size.

Polarity: the gallery's items are bright with darker detail (most of an item's pixels lie in
the upper part of its range). The item's luminance is kept or inverted, whichever gives
that shape, so a dark item photographed on white (the case the old rule was made for) is
inverted and a coloured item keeps its shading either way round; an item too flat to tell is
inverted when darker than its background. Its range is then mapped to the gallery's.

A cut-out (an image with an alpha channel that is not all opaque: a product shot exported
with a transparent background) needs no background model: its alpha is the mask.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .foreground import LUMA, Foreground, estimate_foreground, item_region_share
from .segment import Segmenter, default_segmenter, learned_foreground

WORK_SIDE = 128  # long side of the working copy, px
MIN_WORK_SHARE = 0.9  # a large photo reduced to 0.9-1 x WORK_SIDE needs no resize after its integer reduction
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
OPAQUE_SHARE = 0.97  # an alpha channel this opaque (or more) is no cut-out: the background model decides
GALLERY_HIGH = 240  # the gallery items' 98th percentile (239), where an item's bright end goes
GALLERY_LOW = 40  # where an item's dark end goes: a median item pixel then lands near the gallery's 172
MIN_RANGE = 0.12  # an item's luminance range narrower than this is flat: its noise is not stretched
POLARITY_BAND = (0.42, 0.58)  # a median this near the middle of the range cannot tell light detail from dark


@dataclass(frozen=True)
class PhotoView:
    """The query as the network sees it, and how it was found."""

    image: Image.Image  # greyscale "L", size x size: light item on black
    mask: np.ndarray  # bool [h, w] at the working copy's resolution (``query_mask`` for the query's)
    query_size: tuple[int, int]  # the query's (width, height)
    bbox: tuple[int, int, int, int]  # the item's (left, top, right, bottom) in query pixels
    found: bool  # False: nothing stood out from the background (the whole image was used)
    confidence: float  # in [0, 1]
    inverted: bool  # the item's luminance was inverted (a dark item)
    gallery_style: bool = False  # the query already looked like a gallery image and was left as it is

    def query_mask(self) -> Image.Image:
        """The mask at the query's resolution ("L", 255 = item), for an outline over the query."""
        return Image.fromarray(self.mask.astype(np.uint8) * 255, "L").resize(self.query_size, Image.Resampling.NEAREST)


HAND_MADE = "hand-made"  # ``segmenter=HAND_MADE``: the border background models, never the network


def normalise_photo(image: Image.Image, size: int = 28, segmenter: Segmenter | str | None = None) -> PhotoView:
    """The item in ``image`` (any size, colour or grey) as a ``size`` px gallery-style image.
    The mask is the network's (``segment``: the committed one unless ``segmenter`` is given),
    or the hand-made background models' where no network is trained, HAND_MADE is asked for or
    the network finds no item (``masked_foreground``)."""
    if is_gallery_style(image, size):
        return gallery_view(image)
    alpha = alpha_band(image)
    work = working_copy(image)
    rgb = np.asarray(work, dtype=np.float32) / 255.0
    luma = rgb @ LUMA
    foreground = alpha_foreground(alpha, work.size) if alpha is not None else None
    if foreground is None:
        foreground = masked_foreground(rgb, luma, default_segmenter() if segmenter is None else segmenter)
    mask = foreground.mask if foreground.found else np.ones(rgb.shape[:2], bool)
    levels = item_levels(luma, mask)
    inverted = choose_inverted(levels, foreground.background_luma)
    box = mask_bbox(mask)
    placed = placed_item(luma, mask, box, levels if foreground.found else None, inverted, size)
    scale = image.width / work.width, image.height / work.height
    query_box = (int(box[0] * scale[0]), int(box[1] * scale[1]), int(np.ceil(box[2] * scale[0])),
                 int(np.ceil(box[3] * scale[1])))
    return PhotoView(image=placed, mask=mask, query_size=image.size, bbox=query_box, found=foreground.found,
                     confidence=foreground.confidence, inverted=inverted)


def masked_foreground(rgb: np.ndarray, luma: np.ndarray, network: Segmenter | str | None) -> Foreground:
    """The network's item; where it finds none (a high-contrast checkerboard, mostly: 0.2% of
    the photo evaluation's queries), the hand-made border models' when they find one. On 21 such
    queries of another seed that lifted P@5 from 0.14 to 0.55."""
    if not isinstance(network, Segmenter):
        return estimate_foreground(rgb)
    learned = learned_foreground(rgb, network, luma)
    if learned.found:
        return learned
    fallback = estimate_foreground(rgb)
    return fallback if fallback.found else learned


def placed_item(luma: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], levels: np.ndarray | None,
                inverted: bool, size: int) -> Image.Image:
    """The item's luminance (inverted or not), mapped from its ``levels`` to the gallery's range,
    on black, placed. Without levels (nothing was found) the whole frame is the item, its look
    kept (the background dark)."""
    signal = 1.0 - luma if inverted else luma
    signal = np.clip(signal, 0, 1) if levels is None else mapped_luminance(signal, levels, inverted)
    return Image.fromarray(place_item(np.where(mask, signal, 0.0), box, size), "L")


def normalise_arrays(images: list[Image.Image] | np.ndarray, size: int = 28) -> np.ndarray:
    """``normalise_photo`` of many images (PIL images or uint8 [N, H, W(, 3)]) as uint8 [N, size, size]."""
    items = [Image.fromarray(a) if isinstance(a, np.ndarray) else a for a in images]
    out = np.zeros((len(items), size, size), np.uint8)
    for i, item in enumerate(items):
        out[i] = np.asarray(normalise_photo(item, size).image)
    return out


# --- the steps ---------------------------------------------------------------------------------

def is_gallery_style(image: Image.Image, size: int) -> bool:
    """Already a gallery image: greyscale at the network's size on a black border (a
    Fashion-MNIST image, or a query already normalised). Left exactly as it is."""
    if image.size != (size, size):
        return False
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    if np.abs(pixels - pixels[..., :1]).max() > 2:
        return False
    grey = pixels[..., 0]
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border)) <= 8 and grey.max() > 64


def gallery_view(image: Image.Image) -> PhotoView:
    grey = image.convert("L")
    mask = np.asarray(grey) > 8
    box = mask_bbox(mask) if mask.any() else (0, 0, grey.width, grey.height)
    return PhotoView(image=grey, mask=mask, query_size=grey.size, bbox=box, found=bool(mask.any()), confidence=1.0,
                     inverted=False, gallery_style=True)


def alpha_band(image: Image.Image) -> Image.Image | None:
    """The image's alpha channel ("L"), or None when it has none."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return image.getchannel("A") if image.mode in ALPHA_MODES else None


def alpha_foreground(alpha: Image.Image, size: tuple[int, int]) -> Foreground | None:
    """The cut-out's mask from its alpha (half opaque or more) at the working size; None when the
    alpha is (nearly) all opaque, so the background model decides instead. A cut-out is shown on
    white (as decoding composites it), hence its background luminance."""
    mask = np.asarray(alpha.resize(size, Image.Resampling.BOX)) >= 128
    area = int(mask.sum())
    if area >= OPAQUE_SHARE * mask.size:
        return None
    found = area >= max(12, 0.002 * mask.size)
    share = item_region_share(mask)
    return Foreground(mask=mask, score=mask.astype(np.float32) * 2.0, background_luma=1.0, found=found,
                      confidence=round(share, 4) if found else 0.0)


def working_copy(image: Image.Image) -> Image.Image:
    """RGB, at most WORK_SIDE px on its long side. A large photo is reduced by an integer factor
    first (cheap: a box average); where a factor lands it within WORK_SIDE and MIN_WORK_SHARE of
    it (a 1 MP photo: 125 px) that is all, otherwise the reduced copy is resized."""
    rgb = image if image.mode in ("RGB", "RGBA", "L") else image.convert("RGB")
    long_side = max(rgb.size)
    factor = long_side // WORK_SIDE
    if factor >= 2 and long_side / (factor + 1) >= MIN_WORK_SHARE * WORK_SIDE:
        factor += 1  # lands within WORK_SIDE: no resize
    if factor >= 2:  # reduce before converting: converting a full photo is a copy of every pixel
        rgb = rgb.reduce(factor)
    rgb = rgb.convert("RGB")
    scale = WORK_SIDE / max(rgb.size)
    if scale < 1:
        rgb = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))), Image.Resampling.BILINEAR)
    return rgb


def item_levels(luma: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The 2nd, 50th and 98th percentiles of the item's luminance (its interior's): one sort
    serves both the polarity and the range mapping."""
    return np.quantile(luma[interior(mask)], [0.02, 0.5, 0.98])


def choose_inverted(levels: np.ndarray, background_luma: float) -> bool:
    """Invert when that makes most of the item bright (the gallery's shape); when the item is
    too flat or too even to tell, invert a dark item on a lighter background."""
    low, mid, high = levels
    spread = high - low
    if spread >= MIN_RANGE:
        position = (mid - low) / spread
        if not POLARITY_BAND[0] <= position <= POLARITY_BAND[1]:
            return bool(position < 0.5)
    return bool(mid < background_luma)


def mapped_luminance(signal: np.ndarray, levels: np.ndarray, inverted: bool) -> np.ndarray:
    """The item's [2nd, 98th] percentile range mapped to the gallery's [GALLERY_LOW, GALLERY_HIGH]
    (a flat item gets a range of MIN_RANGE, so its noise is not stretched into texture). The
    inverted signal's percentiles are the luminance's, mirrored."""
    low, high = (1.0 - levels[2], 1.0 - levels[0]) if inverted else (levels[0], levels[2])
    low = min(low, high - MIN_RANGE)
    mapped = GALLERY_LOW + (GALLERY_HIGH - GALLERY_LOW) * (signal - low) / (high - low)
    return np.clip(mapped / 255.0, 0, 1)


def place_item(item: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    """The item's box resized (aspect kept) so its long side fills ``size``, centred, as uint8."""
    left, top, right, bottom = box
    crop = Image.fromarray((item[top:bottom, left:right] * 255).astype(np.float32), "F")
    scale = size / max(crop.size)
    new = (max(1, min(size, round(crop.width * scale))), max(1, min(size, round(crop.height * scale))))
    resized = np.asarray(crop.resize(new, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR))
    out = np.zeros((size, size), np.float32)
    x0, y0 = (size - new[0]) // 2, (size - new[1]) // 2
    out[y0:y0 + new[1], x0:x0 + new[0]] = resized
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def interior(mask: np.ndarray) -> np.ndarray:
    """The mask without its outermost pixels (they mix item and background), unless that empties it."""
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return inner if inner.sum() >= 8 else mask


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), right and bottom exclusive."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
