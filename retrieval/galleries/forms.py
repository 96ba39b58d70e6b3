"""Validation of the gallery pages' inputs."""
from retrieval.core.forms import SearchParamsForm


class NeighboursForm(SearchParamsForm):
    pass
