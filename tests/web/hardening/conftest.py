"""Hostile input for every query endpoint: the three APIs, their pages and the websocket."""

import pytest

# Every query endpoint with the smallest valid body besides its image.
QUERY_APIS = ["/api/search/", "/api/sketch/search/", "/api/degraded/"]
QUERY_PAGES = ["/", "/sketch/", "/degraded/"]
WS_KINDS = ["search", "sketch", "degrade"]


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.fixture
def admission_lanes(settings):
    """Admission lanes built from test-sized settings; the defaults are put back afterwards."""
    from retrieval.core import admission

    def install(**overrides):
        settings.RETRIEVAL = {**settings.RETRIEVAL, "ADMISSION": {**settings.RETRIEVAL["ADMISSION"], **overrides}}
        return admission.install()

    yield install
    settings.RETRIEVAL = {**settings.RETRIEVAL}
    admission.install()
