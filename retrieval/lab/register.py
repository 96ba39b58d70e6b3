"""The descriptor lab's query kind: the `/lab/` page, its websocket start, `evaluate lab`."""

from retrieval.core.kinds import QueryKind, register_kind
from retrieval.lab import evaluation, views

KIND = register_kind(QueryKind(
    name="lab", title="Descriptor lab", page_path="lab/", page_name="lab", page=views.lab_page,
    start=views.start_lab_query, evaluation=evaluation.TASK,
))
