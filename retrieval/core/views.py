"""The one page view every query kind's page is (``core.kinds.QueryKind.page``), and the
stored query images' page.

A query page: GET shows the form; GET with ``example=`` or ``q=`` (a link, see ``core.links``)
runs the query; POST (a plain form, or htmx: then only the results fragment) runs it. With
``format=csv`` a query answers its results as CSV instead. Validation failures are 400 (413
for an upload over the limit), engine errors get their status from ``core.errors``.
"""

from django.http import HttpResponse
from django.shortcuts import render

from retrieval.core import query_store
from retrieval.core.errors import user_error
from retrieval.core.export import csv_response
from retrieval.core.forms import form_messages
from retrieval.core.links import EMPTY_STATE, is_link, linked_example, linked_image, own_image, query_state
from retrieval.engine.errors import EngineError, InvalidImage


def query_page(kind):
    """The page view of ``kind``."""

    def page(request):
        return _query_page(request, kind)

    page.__name__ = page.__qualname__ = kind.page_name
    page.__doc__ = f"The {kind.title.lower()} page: GET shows the form or runs a linked query; POST searches."
    return page


def _query_page(request, kind):
    linked = None
    if request.method == "POST":
        form = kind.form(request.POST, request.FILES)
    elif is_link(request.GET):
        linked = linked_image(request.GET)
        data = _link_data(request.GET, linked)
        if linked.data is None:
            return _render(request, kind, kind.form(data), status=linked.status, messages=[linked.problem])
        form = kind.form(data, image_bytes=linked.data)
    else:
        # Plain parameters (a gallery, k ...) preselect the controls of the empty page.
        return _render(request, kind, kind.form(initial=request.GET.dict()), status=200)
    if not form.is_valid():
        return _render(request, kind, form, status=413 if form.too_large else 400)
    cleaned = form.cleaned_data
    example = linked.example if linked else linked_example(request.POST.get("example"), cleaned["gallery"])
    try:
        outcome = kind.search(cleaned)
    except EngineError as error:
        problem = user_error(error)
        form.add_error("image" if isinstance(error, InvalidImage) else None, problem.message)
        return _render(request, kind, form, status=problem.status)
    if request.GET.get("format") == "csv":
        return csv_response(kind, outcome, request, cleaned)
    from_bytes = linked.stored if linked else own_image(form)
    stored = query_store.query_store(cleaned["image_bytes"]) if from_bytes else None
    state = query_state(kind, cleaned, stored=stored, example=example)
    return _render(request, kind, form, status=200, outcome=outcome, example=example, state=state)


def _link_data(params, linked) -> dict:
    """The form data of a link: its parameters, in the example's gallery unless it names one."""
    data = {key: value for key, value in params.items() if key not in ("q", "format")}
    if linked.example is not None and not data.get("gallery"):
        data["gallery"] = linked.example.gallery.slug
    return data


def _render(request, kind, form, *, status: int, outcome=None, example=None, state=EMPTY_STATE, messages=None):
    context = kind.results(form, outcome, example) | {
        "form": form, "query_state": state,
        "error_messages": form_messages(form) if messages is None else messages}
    if request.htmx and request.method == "POST":
        return render(request, kind.results_template, context, status=status)
    return render(request, kind.page_template, context | kind.page_context(form), status=status)


def stored_query(request, query_id: str):
    """A stored query's image (``core.query_store``); a plain 404 when malformed, unknown or expired."""
    data = query_store.query_read(query_id)
    if data is None:
        return HttpResponse("This query image does not exist or has expired.\n", status=404,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type=query_store.content_type(data))
    response["Cache-Control"] = "private, max-age=3600"
    return response
