"""What every hypothesis of the source search returns: the sources found, each with its region and
distance, and a ranking of the gallery."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Found:
    row: int  # gallery row
    distance: float
    box: tuple[int, int, int, int]  # region of the composite it explains, at the composite's side S
    how: str  # e.g. "blend 0.42", "collage halves, part 2", "paste at 40% scale"
    more: tuple[tuple[int, int, int, int], ...] = ()  # other regions it explains (a quadrant collage's repeated image)

    @property
    def boxes(self) -> tuple[tuple[int, int, int, int], ...]:
        return (self.box, *self.more)


@dataclass(frozen=True)
class Fit:
    hypothesis: str
    error: float  # mean squared error per value over what it explains
    found: list[Found]
    ranking: np.ndarray  # gallery rows, best first (the found ones first)


def whole_image_distance(error_per_value: float, values: int) -> float:
    """An RMS error as the L2 distance a whole image with that error would have."""
    return float(np.sqrt(max(error_per_value, 0.0) * values))


def rest_after(first: list[int], scores: np.ndarray) -> np.ndarray:
    order = np.argsort(scores, kind="stable")
    return np.concatenate([np.array(first, np.int64), order[~np.isin(order, first)]])


def centred_box(aspect: float, size: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a picture of ``aspect`` (width / height) fitted into a size x size
    square at its own aspect ratio, its longer side ``size``, centred."""
    w, h = (size, max(1, round(size / aspect))) if aspect >= 1 else (max(1, round(size * aspect)), size)
    x0, y0 = (size - w) // 2, (size - h) // 2
    return x0, y0, x0 + w, y0 + h


@dataclass(frozen=True)
class Framed:
    """A non-square composite at its own aspect ratio, fitted into the square [C, S, S] on the
    plain background, and the box (x0, y0, x1, y1) it fills there. Pasted stamps keep their shape
    in it; the square the models see squeezes them."""

    image: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def aspect(self) -> float:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) / (y1 - y0)

    def unframed(self, box: tuple[int, int, int, int], size: int) -> tuple[int, int, int, int]:
        """A box in the framed square as the same region of the squeezed square of side ``size``."""
        x0, y0, x1, y1 = self.box
        sx, sy = size / (x1 - x0), size / (y1 - y0)
        xs = [min(size, max(0, round((v - x0) * sx))) for v in (box[0], box[2])]
        ys = [min(size, max(0, round((v - y0) * sy))) for v in (box[1], box[3])]
        return xs[0], ys[0], xs[1], ys[1]
