from importlib import import_module

from django.apps import AppConfig
from django.conf import settings

# Each capability with a query kind registers it in <capability>/register.py: one line each.
QUERY_CAPABILITIES = ("search", "sketch", "degraded", "lab")


class RetrievalConfig(AppConfig):
    name = "retrieval"
    verbose_name = "Image retrieval"

    def ready(self) -> None:
        for capability in QUERY_CAPABILITIES:
            import_module(f"retrieval.{capability}.register")
        # The server process loads models and indexes once, here; commands load lazily.
        # No database access: the engine reads checkpoint and index files only.
        if settings.RETRIEVAL["WARM_AT_STARTUP"]:
            from retrieval.core.runtime import warm_runtime

            warm_runtime()
