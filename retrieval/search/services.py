"""Writes, and the search action: every state change the portal makes goes through here."""

import logging
from dataclasses import dataclass

from django.conf import settings

from retrieval.core.results import ResultItem, explain_hits
from retrieval.core.runtime import engine, serving_pair
from retrieval.engine.runtime import QueryResult
from retrieval.models import Gallery

log = logging.getLogger(__name__)


# --- galleries -------------------------------------------------------------------------





# --- indexes ---------------------------------------------------------------------------





# --- search ----------------------------------------------------------------------------



@dataclass(frozen=True)
class SearchOutcome:
    gallery: Gallery
    query: QueryResult
    metric: str
    k: int
    results: list[ResultItem]

    @property
    def timings_ms(self) -> dict[str, float]:
        return self.query.timings_ms


def image_query(*, gallery: Gallery, data: bytes, k: int, metric: str) -> QueryResult:
    """Decode, describe and search, under the portal's limits: engine errors (InvalidImage,
    NotReady ...) propagate to the edge. Pages, the API and the websocket all search here."""
    serving_pair(gallery.slug)
    return engine().search_bytes(gallery.slug, data, k=k, metric=metric, max_pixels=settings.RETRIEVAL["MAX_PIXELS"])


def image_search(*, gallery: Gallery, data: bytes, k: int, metric: str) -> SearchOutcome:
    """``image_query`` with every hit explained (for responses rendered in one piece)."""
    query = image_query(gallery=gallery, data=data, k=k, metric=metric)
    return SearchOutcome(gallery=gallery, query=query, metric=metric, k=k,
                         results=list(explain_hits(query.decoded.image, query.hits, gallery)))




# --- training --------------------------------------------------------------------------





