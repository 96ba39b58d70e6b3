"""The descriptor lab's query kind: the `/lab/` page, its websocket start, `evaluate lab`."""

from retrieval.core.kinds import QueryKind, register_kind
from retrieval.lab import evaluation, views
from retrieval.lab.forms import LabQueryForm

KIND = register_kind(QueryKind(
    name="lab", title="Descriptor lab", page_path="lab/", page_name="lab", form=LabQueryForm,
    search=views.run, stream=views.stream, results=views.results, page_context=views.page_context,
    page_template="retrieval/lab/page.html", results_template="retrieval/lab/_results.html", rows=views.rows,
    row_columns=("descriptor",), evaluation=evaluation.TASK,
))
