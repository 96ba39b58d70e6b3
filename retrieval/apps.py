from django.apps import AppConfig
from django.conf import settings


class RetrievalConfig(AppConfig):
    name = "retrieval"
    verbose_name = "Image retrieval"

    def ready(self) -> None:
        # The server process loads models and indexes once, here; commands load lazily.
        # No database access: the engine reads checkpoint and index files only.
        if settings.RETRIEVAL["WARM_AT_STARTUP"]:
            from .runtime import warm_runtime

            warm_runtime()
