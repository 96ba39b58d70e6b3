"""The collage hypothesis of the source search: for every layout (halves, thirds, quadrants, side
by side or stacked) each part is searched among the gallery's images framed to that part's shape,
its best few compared again at full size; the layout whose parts are best explained wins.

An image goes into a part the way collage makers put it there: squeezed to the part's shape (the
portal's builders), fitted inside it at its own aspect ratio (letterboxed on the plain
background) or scaled to fill it and cropped. Every part tries all three.
"""

from dataclasses import replace

import numpy as np

from .builders import LAYOUTS, part_boxes, resize
from .fits import Fit, Found, rest_after, whole_image_distance
from .gallery import GalleryArrays

MODES = ("squeeze", "fit", "fill")
REFINE = 3  # a part's candidates (per mode) compared again at full size


def framed(content: np.ndarray, width: int, height: int, mode: str, background: float) -> np.ndarray:
    """``content`` [C, h, w] put into a width x height part by ``mode``: squeezed, fitted
    (letterboxed on ``background``) or scaled to fill and centre-cropped."""
    if mode == "squeeze":
        return resize(content, width, height)
    c, h, w = content.shape
    scale = (min if mode == "fit" else max)(width / w, height / h)
    iw, ih = max(1, round(w * scale)), max(1, round(h * scale))
    inner = resize(content, iw, ih)
    if mode == "fill":
        y, x = max(0, (ih - height) // 2), max(0, (iw - width) // 2)
        return inner[:, y:y + height, x:x + width]
    out = np.full((c, height, width), background, np.float32)
    y, x = (height - ih) // 2, (width - iw) // 2
    out[:, y:y + ih, x:x + iw] = inner
    return out


def _content(gallery: GalleryArrays, row: int, mode: str) -> np.ndarray:
    """The image a part is made from: the squeezed square for ``squeeze``, else the image at its
    own aspect (its content box in the fitted square)."""
    if mode == "squeeze":
        return gallery.images[row]
    x0, y0, x1, y1 = gallery.content_box(row)
    return gallery.cutouts[row][:, y0:y1, x0:x1]


def _candidates(gallery: GalleryArrays, mode: str, width: int, height: int) -> np.ndarray:
    """[N, d]: every gallery image framed into a width x height part at the working resolution."""
    def make():
        if mode == "squeeze":
            return np.stack([resize(x, width, height) for x in gallery.work]).reshape(len(gallery), -1)
        return np.stack([framed(_content(gallery, r, mode), width, height, mode, gallery.background)
                         for r in range(len(gallery))]).reshape(len(gallery), -1)
    return gallery.cached(("collage", mode, width, height), make)


def _refined(gallery: GalleryArrays, composite: np.ndarray, errors: dict, box) -> tuple[int, float, str]:
    """Each mode's best few candidates compared again at full size, where the builders framed them
    (a third's edge falls between working pixels: there the fit is exact only at full size).
    Returns (row, mean squared error, mode) of the best."""
    x0, y0, x1, y1 = box
    part = composite[:, y0:y1, x0:x1]
    best = (-1, np.inf, MODES[0])
    for mode, mode_errors in errors.items():
        for row in np.argsort(mode_errors, kind="stable")[:REFINE]:
            candidate = framed(_content(gallery, int(row), mode), x1 - x0, y1 - y0, mode, gallery.background)
            error = float(((candidate - part) ** 2).mean())
            if error < best[1]:
                best = (int(row), error, mode)
    return best


def _layout(gallery: GalleryArrays, work: np.ndarray, composite: np.ndarray, layout: str):
    side = work.shape[-1]
    parts, total = [], 0.0
    full_boxes = part_boxes(layout, gallery.size)
    for i, (x0, y0, x1, y1) in enumerate(part_boxes(layout, side)):
        target = work[:, y0:y1, x0:x1].reshape(-1)
        errors = {mode: ((_candidates(gallery, mode, x1 - x0, y1 - y0) - target) ** 2).mean(axis=1) for mode in MODES}
        full_box = tuple(full_boxes[i])
        row, error, mode = _refined(gallery, composite, errors, full_box)
        parts.append((np.min(list(errors.values()), axis=0), i, full_box, row, error, mode))
        total += error * (full_box[2] - full_box[0]) * (full_box[3] - full_box[1])
    return total / gallery.size ** 2, parts


def fit_collage(gallery: GalleryArrays, work: np.ndarray, composite: np.ndarray) -> Fit:
    best = min(((*_layout(gallery, work, composite, layout), layout) for layout in LAYOUTS), key=lambda b: b[0])
    error, parts, layout = best
    found: dict[int, Found] = {}
    for _, i, box, row, part_error, mode in sorted(parts, key=lambda p: p[4]):  # an image's best part first
        if row in found:  # the same image in another part (quadrants of three: A B / C A)
            found[row] = replace(found[row], more=(*found[row].more, box), how=f"{found[row].how} and part {i + 1}")
        else:
            found[row] = Found(row, whole_image_distance(part_error, work.size), box,
                               f"collage {layout.replace('_', ' ')}, part {i + 1} ({mode})")
    ordered = sorted(found.values(), key=lambda f: f.distance)
    return Fit("collage", error, ordered, rest_after([f.row for f in ordered], np.min([p[0] for p in parts], axis=0)))
