"""The paste hypothesis of the source search: gallery cut-outs matched at every position and a
range of scales by masked squared differences (FFT correlations), then explained away in turn.

Coarse: every cut-out at the working resolution (its spectra cached per gallery). Fine: the best
``SHORTLIST`` at full size, at scales around their coarse one. Explain-away: the best placement
is taken, the pixels its cut-out covers are taken out of the composite (weight 0), every other
cut-out is matched again on what is left (so a stamp half hidden by another is found by its
visible half), and so on. A cut-out is compared on its own interior (eroded by a pixel: a pasted
rim mixes with what lies below); its score is its mean squared error as a share of its own
variation, so a plain cut-out cannot win by fitting a smooth patch of texture.
"""

import numpy as np
from scipy import ndimage

from .builders import resize
from .fits import Fit, Found, rest_after, whole_image_distance
from .gallery import GalleryArrays, downsample

PASTE_SIDES = (0.34375, 0.40625, 0.46875, 0.53125, 0.59375, 0.625)  # coarse template sides, shares of the canvas
SPREAD_FLOOR = 0.01
MIN_AREA_SHARE = 0.012  # a cut-out covering less of the canvas than this is never matched
MIN_VISIBLE = 0.3  # share of a cut-out that must be left to compare after explaining away
SHORTLIST = 48
MAX_PICKS = 3
FINE_REACH = 2  # fine sizes within this many pixels of twice the coarse size


class Templates:
    """Cut-outs resized to t px, as FFTs at ``side`` px: mask x image per channel, the mask, and
    mask x sum of squares; with each one's area and own variation, and the masks themselves."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, side: int, t: int, erode: bool = True):
        channels = images.shape[1]
        small = np.stack([resize(x, t, t) for x in images])
        cut = np.stack([resize(m[None], t, t)[0] for m in masks]) > 0.5
        if erode:  # at the coarse resolution a pixel's erosion would wipe out thin cut-outs
            cut = ndimage.binary_erosion(cut, structure=np.ones((1, 3, 3), bool))
        cut = cut.astype(np.float32)
        pad = np.zeros((len(images), channels + 2, side, side), np.float32)
        pad[:, :channels, :t, :t] = small * cut[:, None]
        pad[:, channels, :t, :t] = cut
        pad[:, channels + 1, :t, :t] = (small ** 2).sum(1) * cut
        self.t, self.channels, self.cut = t, channels, cut
        self.spectra = np.fft.rfft2(pad).astype(np.complex64)
        self.area = cut.sum(axis=(1, 2))
        self.energy = (small ** 2 * cut[:, None]).sum(axis=(1, 2, 3))
        mean = (small * cut[:, None]).sum(axis=(2, 3)) / (self.area[:, None] + 1e-6)
        self.spread = (((small - mean[:, :, None, None]) ** 2) * cut[:, None]).sum(axis=(1, 2, 3)) / (
            self.area * channels + 1e-6)


def _correlate(spectra: np.ndarray, conj_image: np.ndarray, side: int, t: int) -> np.ndarray:
    """sum_u T(u) X(p + u) for every valid offset p, from F(T) and conj(F(X))."""
    out = np.fft.irfft2(spectra * conj_image, s=(side, side))
    # irfft2 of conj(F(X)) F(T) gives sum_u T(u) X(u - q): index -p mod side holds offset p
    return np.roll(out[..., ::-1, ::-1], 1, axis=(-2, -1))[..., :side - t + 1, :side - t + 1]


def _scores(work: np.ndarray, weight: np.ndarray, templates: Templates, rows=None):
    """(mean squared error, score) of the cut-outs ``rows`` at every offset, over the pixels of
    weight 1 only."""
    side, c, t = work.shape[-1], templates.channels, templates.t
    rows = slice(None) if rows is None else rows
    spectra = templates.spectra[rows]
    f = lambda x: np.conj(np.fft.rfft2(x)).astype(np.complex64)  # noqa: E731
    area = templates.area[rows][:, None, None]
    if weight is None:  # nothing explained yet: the cut-out's own sums
        weight = 1
        energy, seen = templates.energy[rows][:, None, None], area
    else:
        energy = _correlate(spectra[:, c + 1], f(weight)[None], side, t)
        seen = _correlate(spectra[:, c], f(weight)[None], side, t)
    cross = _correlate((spectra[:, :c] * f(work * weight)[None]).sum(1), 1, side, t)
    local = _correlate(spectra[:, c], f((work ** 2).sum(0) * weight)[None], side, t)
    mse = np.maximum(local - 2 * cross + energy, 0) / (seen * c + 1e-6)
    mse[np.broadcast_to((seen < MIN_VISIBLE * area) | (area < MIN_AREA_SHARE * side * side), mse.shape)] = np.inf
    return mse, mse / (templates.spread[rows][:, None, None] + SPREAD_FLOOR)


def _best(work, weight, groups, n):
    """Per cut-out: its best score, that placement's error and (x, y, t), over the size groups
    [(templates, rows or None, positions into the n cut-outs)]."""
    score, error = np.full(n, np.inf), np.full(n, np.inf)
    place = np.zeros((n, 3), np.int64)
    for templates, rows, where in groups:
        mse, scores = _scores(work, weight, templates, rows)
        flat = scores.reshape(len(scores), -1)
        at = flat.argmin(1)
        value = flat[np.arange(len(flat)), at]
        better = value < score[where]
        idx = where[better]
        score[idx], error[idx] = value[better], mse.reshape(len(mse), -1)[np.arange(len(flat)), at][better]
        width = scores.shape[2]
        place[idx] = np.stack([at % width, at // width, np.full(len(at), templates.t)], 1)[better]
    return score, error, place


def fit_paste(gallery: GalleryArrays, work: np.ndarray, composite: np.ndarray) -> Fit:
    side, full = work.shape[-1], gallery.size
    masks = gallery.cached("work_masks", lambda: downsample(gallery.masks[:, None], side)[:, 0])
    coarse = [(gallery.cached(("templates", side, t), lambda t=t: Templates(gallery.work, masks, side, t, erode=False)), None,
               np.arange(len(gallery))) for t in (round(s * side) for s in PASTE_SIDES)]
    coarse_score, _, coarse_place = _best(work, None, coarse, len(gallery))
    shortlist = np.argsort(coarse_score, kind="stable")[:SHORTLIST]
    target = np.asarray(composite, np.float32)
    factor = full / side
    groups = []
    for t in range(round(PASTE_SIDES[0] * full) - 1, round(PASTE_SIDES[-1] * full) + 3, 2):
        near = np.flatnonzero(np.abs(coarse_place[shortlist, 2] * factor - t) <= FINE_REACH)
        if len(near):
            groups.append((Templates(gallery.images[shortlist[near]], gallery.masks[shortlist[near]], full, t), None, near))
    weight = None
    found, picked = [], []
    score = np.full(len(shortlist), np.inf)
    for _ in range(MAX_PICKS):
        score, error, place = _best(target, weight, groups, len(shortlist))
        score[picked] = np.inf
        best = int(np.argmin(score))
        if not np.isfinite(score[best]):
            break
        x, y, t = (int(v) for v in place[best])
        templates = next(g[0] for g in groups if g[0].t == t)
        cut = templates.cut[int(np.flatnonzero(next(g[2] for g in groups if g[0].t == t) == best)[0])]
        weight = np.ones((full, full), np.float32) if weight is None else weight
        weight[y:y + t, x:x + t] *= 1 - ndimage.binary_dilation(cut > 0, iterations=1)
        picked.append(best)
        found.append(Found(int(shortlist[best]), whole_image_distance(float(error[best]), target.size),
                           (x, y, x + t, y + t), f"paste at {round(100 * t / full)}% scale"))
    fit_error = float(np.mean([(f.distance ** 2) / target.size for f in found[:2]])) if found else np.inf
    ranked = np.full(len(gallery), np.inf)
    ranked[shortlist] = np.where(np.isfinite(score), score, 1e6)
    rest = np.where(np.isfinite(ranked), ranked, 1e9 + coarse_score)
    return Fit("paste", fit_error, found, rest_after([f.row for f in found], rest))
