"""The paste hypothesis of the source search: gallery cut-outs matched at every position and every
size by masked squared differences (FFT correlations), then explained away in turn.

Coarse: every cut-out at the working resolution, at every integer side in ``SIDES`` (its spectra
cached per gallery). Fine: the best ``SHORTLIST`` at full size, at every side around their coarse
one (when the working resolution is the full one, the coarse templates serve again). A pasted
stamp is the cut-out resized by the same bilinear filter the builders use, so at its true side
and offset its fully opaque pixels equal the template's exactly: a cut-out is compared on its
own opaque interior only (its rim mixes with what lies below), and one pixel too many or too
few in the side is a different picture (at 13 px, 8% off). Explain-away: the best placement is
taken, every pixel its cut-out touches is taken out of the composite (weight 0), every other
cut-out is matched again on what is left (so a stamp half hidden by another is found by its
visible half), and so on. Its score is its mean squared error as a share of its own variation,
so a plain cut-out cannot win by fitting a smooth patch of texture. The cut-outs not picked rank
by the best score they reached in any round: a near-duplicate of a picked stamp (the gallery's
colour variants), or the runner-up for a region, fitted before that region was explained away
and ranks next, not last.
"""

import numpy as np
from scipy import fft

from .builders import resize
from .fits import Fit, Found, rest_after, whole_image_distance
from .gallery import GalleryArrays, downsample

SIDES = (0.34375, 0.625)  # smallest and largest template side (a cut-out's longer side), shares of the canvas
SPREAD_FLOOR = 0.01
MIN_AREA_SHARE = 0.012  # a cut-out (its mostly opaque pixels) covering less of the canvas than this is never matched
MIN_VISIBLE = 0.3  # share of a cut-out that must be left to compare after explaining away
SHORTLIST = 96  # held-out pastes (seed 5): 48 kept 74-83% of the true stamps, 96 keeps 84-87%, 160 found no more
MAX_PICKS = 3
FINE_REACH = 4  # fine sides within this many pixels of the coarse side scaled up (the coarse side is often one off)
OPAQUE = 0.99  # a resized mask this high is the stamp alone: compared exactly
MIN_OPAQUE = 4  # fewer opaque pixels than this (or a tenth of the cut-out): compare what is mostly opaque
TOUCHED = 0.01  # a resized mask this high was changed by the stamp: explained when it is picked


class Templates:
    """Cut-outs resized to t px, as FFTs at ``side`` px: mask x image per channel, the mask, and
    mask x sum of squares; with each one's area and own variation, its compared mask ``cut`` (its
    opaque interior, or where that is too thin, what is mostly opaque) and its ``footprint``."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, side: int, t: int):
        channels = images.shape[1]
        small = np.stack([resize(x, t, t) for x in images])
        alpha = np.stack([resize(m[None], t, t)[0] for m in masks])
        opaque, most = alpha >= OPAQUE, alpha > 0.5
        thin = opaque.sum(axis=(1, 2)) < np.maximum(MIN_OPAQUE, 0.1 * most.sum(axis=(1, 2)))
        cut = np.where(thin[:, None, None], most, opaque).astype(np.float32)
        pad = np.zeros((len(images), channels + 2, side, side), np.float32)
        pad[:, :channels, :t, :t] = small * cut[:, None]
        pad[:, channels, :t, :t] = cut
        pad[:, channels + 1, :t, :t] = (small ** 2).sum(1) * cut
        self.t, self.channels, self.cut, self.footprint = t, channels, cut, alpha > TOUCHED
        self.spectra = np.conj(fft.rfft2(pad)).astype(np.complex64)  # conjugated: correlations, not convolutions
        self.area, self.size = cut.sum(axis=(1, 2)), most.sum(axis=(1, 2))
        self.energy = (small ** 2 * cut[:, None]).sum(axis=(1, 2, 3))
        mean = (small * cut[:, None]).sum(axis=(2, 3)) / (self.area[:, None] + 1e-6)
        self.spread = (((small - mean[:, :, None, None]) ** 2) * cut[:, None]).sum(axis=(1, 2, 3)) / (
            self.area * channels + 1e-6)


def _correlate(spectrum: np.ndarray, side: int, t: int) -> np.ndarray:
    """sum_u T(u) X(p + u) for every offset p that keeps the template inside, from conj(F(T)) F(X)
    (there p + u < side: no wrap-around)."""
    return fft.irfft2(spectrum, s=(side, side))[..., :side - t + 1, :side - t + 1]


def _spectrum(x: np.ndarray) -> np.ndarray:
    return fft.rfft2(x).astype(np.complex64)


def _scores(work: np.ndarray, weight: np.ndarray, templates: Templates, rows=None):
    """(mean squared error, score) of the cut-outs ``rows`` at every offset, over the pixels of
    weight 1 only. The squared error's three sums (the composite's energy under the cut-out, the
    cross term, the cut-out's own energy over what is seen) are one correlation: their spectra add."""
    side, c, t = work.shape[-1], templates.channels, templates.t
    rows = slice(None) if rows is None else rows
    spectra = templates.spectra[rows]
    area = templates.area[rows][:, None, None]
    w = 1 if weight is None else weight
    terms = [-2 * _spectrum(work * w), _spectrum((work ** 2).sum(0) * w)[None]]
    if weight is None:  # nothing explained yet: the cut-out's own sums
        energy, seen = templates.energy[rows][:, None, None], area
    else:
        energy, seen = 0, _correlate(spectra[:, c] * _spectrum(weight)[None], side, t)
        terms.append(_spectrum(weight)[None])
    terms = np.concatenate(terms)
    squared = _correlate(np.einsum("nkij,kij->nij", spectra[:, :len(terms)], terms), side, t) + energy
    mse = np.maximum(squared, 0) / (seen * c + 1e-6)
    small = templates.size[rows][:, None, None] < MIN_AREA_SHARE * side * side
    mse[np.broadcast_to((seen < MIN_VISIBLE * area) | small | (area < MIN_OPAQUE), mse.shape)] = np.inf
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


def _sides(side: int) -> range:
    return range(round(SIDES[0] * side), round(SIDES[1] * side) + 1)


def _coarse(gallery: GalleryArrays, side: int) -> list:
    masks = gallery.cached("work_masks", lambda: downsample(gallery.masks[:, None], side)[:, 0])
    return [gallery.cached(("templates", side, t), lambda t=t: Templates(gallery.work_cutouts, masks, side, t))
            for t in _sides(side)]


def _fine_groups(gallery: GalleryArrays, coarse: list, shortlist: np.ndarray, coarse_sides: np.ndarray, side: int):
    """[(templates, rows into them or None, positions into the shortlist)] at full size."""
    full = gallery.size
    if full == side:  # the coarse templates are the full-size ones: reuse their rows
        reach = range(-FINE_REACH, FINE_REACH + 1)
        groups = []
        for templates in coarse:
            near = np.flatnonzero(np.any([coarse_sides + d == templates.t for d in reach], axis=0))
            if len(near):
                groups.append((templates, shortlist[near], near))
        return groups
    factor, groups = full / side, []
    for t in _sides(full):
        near = np.flatnonzero(np.abs(coarse_sides * factor - t) <= FINE_REACH)
        if len(near):
            rows = shortlist[near]
            groups.append((Templates(gallery.cutouts[rows], gallery.masks[rows], full, t), None, near))
    return groups


def _footprint(groups, best: int, t: int) -> np.ndarray:
    templates, rows, where = next(g for g in groups if g[0].t == t and best in g[2])
    i = int(np.flatnonzero(where == best)[0])
    return templates.footprint[i if rows is None else rows[i]]


def _inside(frame, side: int, full: int) -> np.ndarray | None:
    """Weight 1 on the pixels of a ``side`` square wholly inside ``frame`` (a box at ``full``), 0 elsewhere."""
    if frame is None:
        return None
    f = side / full
    x0, y0 = (int(np.ceil(v * f - 1e-6)) for v in frame[:2])
    x1, y1 = (int(np.floor(v * f + 1e-6)) for v in frame[2:])
    weight = np.zeros((side, side), np.float32)
    weight[y0:y1, x0:x1] = 1
    return weight


def fit_paste(gallery: GalleryArrays, work: np.ndarray, composite: np.ndarray, frame=None) -> Fit:
    """``frame``: where the composite lies in a letterboxed square (``fits.Framed``); nothing
    is matched on what lies outside it."""
    side, full = work.shape[-1], gallery.size
    coarse = _coarse(gallery, side)
    coarse_score, _, coarse_place = _best(work, _inside(frame, side, full),
                                          [(t, None, np.arange(len(gallery))) for t in coarse], len(gallery))
    shortlist = np.argsort(coarse_score, kind="stable")[:SHORTLIST]
    target = np.asarray(composite, np.float32)
    groups = _fine_groups(gallery, coarse, shortlist, coarse_place[shortlist, 2], side)
    weight = _inside(frame, full, full)
    found, picked = [], []
    best_ever = np.full(len(shortlist), np.inf)
    for _ in range(MAX_PICKS):
        score, error, place = _best(target, weight, groups, len(shortlist))
        best_ever = np.minimum(best_ever, score)
        score[picked] = np.inf
        best = int(np.argmin(score))
        if not np.isfinite(score[best]):
            break
        x, y, t = (int(v) for v in place[best])
        weight = np.ones((full, full), np.float32) if weight is None else weight
        weight[y:y + t, x:x + t] *= 1 - _footprint(groups, best, t)
        picked.append(best)
        row = int(shortlist[best])
        cx0, cy0, cx1, cy1 = gallery.content_box(row, t)  # the stamp itself, not its square's letterbox
        found.append(Found(row, whole_image_distance(float(error[best]), target.size),
                           (x + cx0, y + cy0, x + cx1, y + cy1), f"paste at {round(100 * t / full)}% scale"))
    fit_error = float(np.mean([(f.distance ** 2) / target.size for f in found[:2]])) if found else np.inf
    ranked = np.full(len(gallery), np.inf)
    ranked[shortlist] = np.where(np.isfinite(best_ever), best_ever, 1e6)
    rest = np.where(np.isfinite(ranked), ranked, 1e9 + coarse_score)
    return Fit("paste", fit_error, found, rest_after([f.row for f in found], rest))
