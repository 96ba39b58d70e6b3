"""The image search action: decode, bring the query to the network's view with the chosen
descriptor (standard or photo), search, and say whether the answer can be trusted."""

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from retrieval.core.results import ResultItem, explain_hits
from retrieval.engine.data.fashion_mnist import CLASS_NAMES
from retrieval.engine.images import decode_image
from retrieval.engine.photo.alpha import read_alpha, with_alpha
from retrieval.engine.photo.unsure import Unsure
from retrieval.engine.runtime import QueryResult, SearchPair, search_pair
from retrieval.models import Gallery
from retrieval.photo.services import calibration_if_ready, descriptor_pair, query_unsure, serving_mode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageQuery:
    query: QueryResult
    descriptor: str  # "standard" or "photo"
    unsure: Unsure | None  # None where the rule is not calibrated for the gallery


@dataclass(frozen=True)
class SearchOutcome:
    gallery: Gallery
    query: QueryResult
    metric: str
    k: int
    results: list[ResultItem]
    descriptor: str = "standard"
    unsure: Unsure | None = None

    @property
    def timings_ms(self) -> dict[str, float]:
        return self.query.timings_ms


def image_query(*, gallery: Gallery, data: bytes, k: int, metric: str, descriptor: str = "standard") -> ImageQuery:
    """Decode, describe and search with ``descriptor``'s pair, under the portal's limits: engine
    errors (InvalidImage, NotReady ...) propagate to the edge. Pages, the API and the websocket
    all search here. A cut-out's alpha channel is its mask (``engine.photo.alpha``); a photo-mode
    query already in the gallery's style is served by the standard pair (``serving_mode``)."""
    pair = descriptor_pair(gallery.slug, descriptor)
    started = time.perf_counter()
    decoded = decode_image(data, max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
    served = serving_mode(descriptor, decoded.image, pair.descriptor.input_size)
    if served != descriptor:
        pair, descriptor = descriptor_pair(gallery.slug, served), served
    t0 = time.perf_counter()
    query = search_pair(pair, decoded, with_alpha(decoded.image, read_alpha(data, decoded.image.size)), k=k,
                        metric=metric)
    query = QueryResult(**{**query.__dict__, "timings_ms": {"decode": round((t0 - started) * 1000, 2),
                                                            **query.timings_ms}})
    return ImageQuery(query=query, descriptor=descriptor, unsure=judge_query(gallery, pair, query, metric))


def judge_query(gallery: Gallery, pair: SearchPair, query: QueryResult, metric: str) -> Unsure | None:
    """The unsure flag of a searched query; None where it is not calibrated for the gallery, not
    yet (the calibration is measured in the background) or cannot be (no Fashion-MNIST test split)."""
    if not gallery_is_calibrated(gallery) or not len(query.hits.distances):
        return None
    try:
        calibration = calibration_if_ready(pair, metric)
        if calibration is None:
            return None
        return query_unsure(pair=pair, view=query.view, nearest_distance=query.hits.distances[0], metric=metric,
                            calibration=calibration)
    except OSError as error:
        log.warning("no unsure flag: %s", error)
        return None


def gallery_is_calibrated(gallery: Gallery) -> bool:
    """The unsure rule is calibrated on Fashion-MNIST test queries: it applies to galleries of
    Fashion-MNIST's classes only."""
    return list(gallery.class_names) == list(CLASS_NAMES)


def image_search(*, gallery: Gallery, data: bytes, k: int, metric: str, descriptor: str = "standard") -> SearchOutcome:
    """``image_query`` with every hit explained (for responses rendered in one piece)."""
    found = image_query(gallery=gallery, data=data, k=k, metric=metric, descriptor=descriptor)
    return SearchOutcome(gallery=gallery, query=found.query, metric=metric, k=k,
                         results=list(explain_hits(found.query.decoded.image, found.query.hits, gallery)),
                         descriptor=found.descriptor, unsure=found.unsure)
