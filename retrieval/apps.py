from importlib import import_module

from django.apps import AppConfig

# Each capability with a query kind registers it in <capability>/register.py: one line each.
QUERY_CAPABILITIES = ("search", "sketch", "degraded", "lab", "composites", "texture")
EVALUATION_CAPABILITIES = ("photo",)  # evaluation only: their register.py registers an evaluation task


class RetrievalConfig(AppConfig):
    name = "retrieval"
    verbose_name = "Image retrieval"

    def ready(self) -> None:
        for capability in QUERY_CAPABILITIES + EVALUATION_CAPABILITIES:
            import_module(f"retrieval.{capability}.register")
        # Every decode passes the admission gate. The server process warms its models in a
        # background thread started by portal.asgi (it answers "warming up" meanwhile);
        # commands and tests load lazily. No database access here.
        from retrieval.core import admission

        admission.install()
