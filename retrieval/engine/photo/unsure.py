"""The "unsure" rule: a query far from everything in the gallery, or one in which no item
was found, is flagged instead of being answered with confidence.

"Far" is calibrated, not guessed: ``calibrate`` takes the nearest-neighbour distances of
clean test queries (Fashion-MNIST test images against the gallery, through the serving
pipeline) and keeps their 99th percentile; a query beyond it is further from the gallery
than 99% of genuine queries.
"""

from dataclasses import dataclass

import numpy as np

QUANTILE = 0.99
MIN_CONFIDENCE = 0.15  # a found item less certain than this (in normalise's terms) is flagged too


@dataclass(frozen=True)
class Calibration:
    metric: str
    threshold: float  # nearest distances above this are unusual
    quantile: float
    queries: int  # how many clean queries it was measured on

    def to_dict(self) -> dict:
        return {"metric": self.metric, "threshold": self.threshold, "quantile": self.quantile, "queries": self.queries}


@dataclass(frozen=True)
class Unsure:
    unsure: bool
    score: float  # nearest distance / threshold: below 1 is within what genuine queries see
    reason: str  # "" when sure; otherwise a sentence for the page and the API

    def to_dict(self) -> dict:
        return {"unsure": self.unsure, "score": self.score, "reason": self.reason}


def calibrate(nearest_distances: np.ndarray, metric: str, quantile: float = QUANTILE) -> Calibration:
    """The ``quantile`` of clean queries' nearest distances (one per query)."""
    distances = np.asarray(nearest_distances, dtype=np.float64)
    if distances.size == 0:
        raise ValueError("calibrating needs at least one query's nearest distance")
    return Calibration(metric=metric, threshold=round(float(np.quantile(distances, quantile)), 6),
                       quantile=quantile, queries=int(distances.size))


def judge(nearest_distance: float, calibration: Calibration, *, found: bool = True,
          confidence: float = 1.0) -> Unsure:
    """Whether a query's answer should be flagged, with its score and the reason."""
    score = round(float(nearest_distance) / max(calibration.threshold, 1e-12), 4)
    if not found:
        return Unsure(True, score, "No item stood out from the background: this doesn't look like anything "
                                   "in the gallery.")
    if score > 1.0:
        return Unsure(True, score, "This doesn't look like anything in the gallery: it is further from every "
                                   f"gallery image than {calibration.quantile:.0%} of test queries are.")
    if confidence < MIN_CONFIDENCE:
        return Unsure(True, score, "The item barely stands out from its background: the results may be about "
                                   "the background, not the item.")
    return Unsure(False, score, "")
