"""Where the item is in a photo: a background model learned from the image's border, and
the mask of what it does not explain.

Two models of the border, because backgrounds come in two sorts. A smooth background
(solid, or lit unevenly: a gradient, a vignette, paper in a shadow) is a low-order
polynomial surface of colour over the image; the border fits it and the interior is
predicted from it. A patterned one (stripes, brick, grass, noise) is not a surface but a
set of colours and a texture: the border's pixels, clustered on colour and local contrast,
say which (colour, texture) pairs are background anywhere. A pixel is background when
either model explains it (the polynomial only where it fits the border well), and the item
is the largest coherent region left, with its big parts.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # RGB weights of luminance (ITU-R BT.601)
BORDER_SHARE = 0.05  # the band around the image taken as background, as a share of its short side
CLUSTERS = 6  # colour/texture clusters of the border
TEXTURE_WEIGHT = 1.5  # local contrast's weight against colour in the border clusters
SMOOTH_FIT = 0.15  # the polynomial model is used where its border residual (95th percentile) is below this
MIN_AREA_SHARE = 0.002  # a mask smaller than this share of the image is "nothing found"
MAX_AREA_SHARE = 0.97  # a mask over this share of the image is no item either: it is the background
PART_SHARE = 0.12  # a region at least this share of the largest one is a part of the item too
PATTERN_SPREAD, PATTERN_FLOOR = 0.7, 0.02  # a pixel this far beyond the border's 95th percentile is not background
SMALL_HOLE_SHARE = 0.03  # holes smaller than this share of the item are filled (a highlight, a print)


@dataclass(frozen=True)
class Foreground:
    mask: np.ndarray  # bool [H, W] at the working resolution: the item
    score: np.ndarray  # float32 [H, W]: how far each pixel is from the background models (> 1: not background)
    background_luma: float  # the background's median luminance in [0, 1]
    found: bool  # False when nothing large enough stands out from the background
    confidence: float  # in [0, 1]: how cleanly the item stands out


def estimate_foreground(rgb: np.ndarray) -> Foreground:
    """The item's mask in a float32 [H, W, 3] image in [0, 1] (a small working copy)."""
    h, w, _ = rgb.shape
    band = max(2, round(BORDER_SHARE * min(h, w)))
    smooth = ndimage.uniform_filter(rgb, size=(3, 3, 1), mode="nearest")
    luma = smooth @ LUMA
    contrast = local_contrast(luma)
    border = border_mask(h, w, band)
    pattern = pattern_score(smooth, contrast, border)
    surface, fit = surface_fit(smooth, border)
    smooth_background = fit <= SMOOTH_FIT
    score = np.minimum(pattern, surface_distance(smooth, surface, fit)) if smooth_background else pattern
    raw = ndimage.binary_opening(score > 1.0, structure=np.ones((3, 3), bool))
    if smooth_background and raw.any():
        # Refit on every pixel that looks like background: the border alone extrapolates badly
        # into the middle (a spot light); the border's residual still sets the threshold.
        settled = (score < 0.5) & ~ndimage.binary_dilation(raw, iterations=2)
        if settled.sum() > 50:
            surface, _ = surface_fit(smooth, settled, stride=3, cubic=True)
            score = np.minimum(pattern, surface_distance(smooth, surface, fit))
            raw = ndimage.binary_opening(score > 1.0, structure=np.ones((3, 3), bool))
    mask, share = item_region(raw, border)
    area = int(mask.sum())
    found = is_item_sized(area, h, w)
    confidence = item_confidence(score, mask, border, share) if found else 0.0
    return Foreground(mask=mask, score=score, background_luma=float(np.median(luma[border])), found=found,
                      confidence=confidence)


# --- the two background models -------------------------------------------------------------

def pattern_score(smooth: np.ndarray, contrast: np.ndarray, border: np.ndarray) -> np.ndarray:
    """Distance to the nearest (colour, local contrast) cluster of the border, in units of how
    far the border's own pixels lie from their clusters."""
    features = np.concatenate([smooth, TEXTURE_WEIGHT * contrast[..., None]], axis=2)
    samples = features[border]
    if len(samples) > 1200:  # a fixed stride: deterministic and fast
        samples = samples[:: len(samples) // 1200 + 1]
    centres = kmeans(samples, CLUSTERS)
    nearest = np.sqrt(nearest_sq_distance(features.reshape(-1, features.shape[2]), centres)).reshape(contrast.shape)
    spread = float(np.quantile(nearest[border], 0.95))
    return (nearest / (PATTERN_SPREAD * spread + PATTERN_FLOOR)).astype(np.float32)


def surface_fit(smooth: np.ndarray, where: np.ndarray, stride: int = 1, cubic: bool = False) -> tuple[np.ndarray, float]:
    """(quadratic, or cubic, colour surface [H, W, 3], 95th percentile of its residual) fitted to
    the pixels ``where`` (refitted once without its outliers, so an item touching them bends it less)."""
    h, w, channels = smooth.shape
    basis = polynomial_basis(h, w, cubic)
    flat = basis.reshape(h * w, -1)
    chosen = np.flatnonzero(where.ravel())[::stride]
    a, b = flat[chosen], smooth.reshape(h * w, channels)[chosen]
    keep = np.ones(len(a), bool)
    for _ in range(2):
        coef = least_squares(a[keep], b[keep])
        difference = a @ coef - b
        residual = np.sqrt(np.einsum("ij,ij->i", difference, difference))
        keep = residual <= max(3 * float(np.median(residual)), 0.02)
    return (flat @ coef.astype(np.float32)).reshape(h, w, channels), float(np.quantile(residual[keep], 0.95))


def surface_threshold(fit: float) -> float:
    return 2.0 * fit + 0.04


# --- the item: the largest coherent region and its parts -------------------------------------

def item_region(raw: np.ndarray, border: np.ndarray) -> tuple[np.ndarray, float]:
    """The largest connected region with every region at least PART_SHARE of it (a sandal's
    straps, a pair of shoes), small holes filled; and the share of all flagged pixels it holds.
    A region reaching into the border counts a quarter of its area: it is more often a piece
    of background the models missed than an item cut by the frame."""
    labels, count = ndimage.label(raw, structure=np.ones((3, 3), bool))
    if count == 0:
        return raw, 0.0
    areas = np.bincount(labels.ravel())[1:]
    touches = np.bincount(labels[border], minlength=count + 1)[1:] > 0
    weights = areas * np.where(touches, 0.25, 1.0)
    chosen = np.flatnonzero(weights >= PART_SHARE * weights.max()) + 1
    mask = label_lookup(chosen, count)[labels]
    # Holes: the regions of what is not the mask (4-connected, as binary_fill_holes sees them)
    # that do not reach the frame's edge. One labelling instead of fill_holes' iterated erosions.
    holes, hole_count = ndimage.label(~mask)
    if hole_count:
        hole_areas = np.bincount(holes.ravel(), minlength=hole_count + 1)
        edge = np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]])
        hole_areas[edge] = mask.size  # reaches the edge: background, never filled
        hole_areas[0] = mask.size
        mask |= (hole_areas < SMALL_HOLE_SHARE * mask.sum())[holes]
    return mask, float(areas[chosen - 1].sum() / max(areas.sum(), 1))


def label_lookup(chosen: np.ndarray, count: int) -> np.ndarray:
    """bool [count + 1], True at the chosen labels: indexing it with a label image selects
    those regions in one gather (``np.isin`` sorts and searches, several times slower)."""
    table = np.zeros(count + 1, bool)
    table[chosen] = True
    return table


def is_item_sized(area: int, h: int, w: int) -> bool:
    """Whether a mask of ``area`` pixels in an h x w image is an item: neither a speck nor the frame."""
    return max(12, MIN_AREA_SHARE * h * w) <= area <= MAX_AREA_SHARE * h * w


def item_region_share(mask: np.ndarray) -> float:
    """The share of a mask's pixels in its largest connected region (1.0 for one solid item)."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return 0.0
    return float(np.bincount(labels.ravel())[1:].max() / mask.sum())


def item_confidence(score: np.ndarray, mask: np.ndarray, border: np.ndarray, share: float) -> float:
    """High when the item stands well clear of the background (its median score), the border
    itself is explained (few border pixels flagged) and the item holds most flagged pixels."""
    separation = float(np.clip((np.median(score[mask]) - 1.0) / 2.0, 0, 1))
    clean_border = float(np.clip(1.0 - 4.0 * (score[border] > 1.0).mean(), 0, 1))
    return round(separation * clean_border * share ** 0.5, 4)


# --- pure helpers ----------------------------------------------------------------------------

@lru_cache(maxsize=8)
def polynomial_basis(h: int, w: int, cubic: bool) -> np.ndarray:
    """[H, W, 6 or 10] monomials of the centred, unit-scaled pixel coordinates (cached per shape)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / max(h - 1, 1) - 0.5, xx / max(w - 1, 1) - 0.5
    terms = [np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy]
    if cubic:
        terms += [xx ** 3, xx * xx * yy, xx * yy * yy, yy ** 3]
    basis = np.stack(terms, axis=-1)
    basis.flags.writeable = False
    return basis


def surface_distance(smooth: np.ndarray, surface: np.ndarray, fit: float) -> np.ndarray:
    difference = surface - smooth
    return np.sqrt(np.einsum("ijc,ijc->ij", difference, difference)) / np.float32(surface_threshold(fit))


def border_mask(h: int, w: int, band: int) -> np.ndarray:
    border = np.zeros((h, w), bool)
    border[:band], border[-band:], border[:, :band], border[:, -band:] = True, True, True, True
    return border


def local_contrast(luma: np.ndarray, size: int = 5) -> np.ndarray:
    """Local standard deviation of luminance over ``size`` x ``size`` pixels."""
    mean = ndimage.uniform_filter(luma, size, mode="nearest")
    square = ndimage.uniform_filter(luma * luma, size, mode="nearest")
    return np.sqrt(np.maximum(square - mean * mean, 0)).astype(np.float32)


def kmeans(samples: np.ndarray, k: int, iterations: int = 6) -> np.ndarray:
    """Deterministic k-means: farthest-point seeds from the median, a few Lloyd steps."""
    centres = [np.median(samples, axis=0)]
    distance = nearest_sq_distance(samples, np.array(centres))
    for _ in range(min(k, len(samples)) - 1):
        centres.append(samples[int(np.argmax(distance))])
        distance = np.minimum(distance, ((samples - centres[-1]) ** 2).sum(1))
    centres = np.array(centres, np.float32)
    ranks = np.arange(len(centres))
    for _ in range(iterations):
        members = (nearest_centre(samples, centres)[:, None] == ranks[None]).astype(np.float32)
        counts = members.sum(0)
        moved = counts > 0
        centres[moved] = (members.T @ samples)[moved] / counts[moved, None]
    return centres


def nearest_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmin(centre_sq_distances(points, centres), axis=0)


def centre_sq_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distances [K, N] of points [N, D] to centres [K, D], a plane per dimension: with
    a handful of centres and dimensions this beats a matrix product several times over."""
    planes = np.ascontiguousarray(points.T)
    out = np.empty((len(centres), len(points)), np.float32)
    for k, centre in enumerate(centres):
        row = out[k]
        np.subtract(planes[0], centre[0], out=row)
        row *= row
        for d in range(1, len(planes)):
            step = planes[d] - centre[d]
            step *= step
            row += step
    return out


def least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least-squares coefficients by the normal equations (six unknowns: far cheaper than an
    SVD on thousands of rows), with a whisker of ridge so a degenerate fit still solves."""
    gram = a.T @ a
    return np.linalg.solve(gram + 1e-6 * np.trace(gram) * np.eye(len(gram)), a.T @ b)


def nearest_sq_distance(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distance of each point [N, D] to its nearest centre [K, D]."""
    return centre_sq_distances(points, centres).min(0)
