"""The lab page `/lab/` and its websocket start: one query, one column per descriptor.

GET `?example=<gallery image id>[&k=&metric=]` runs a gallery image as the query (works
without JavaScript); POST an upload. Over the websocket (`{"type": "lab", ...}` on
`/ws/search/`) the head comes first and each descriptor's column follows when it is ready.
"""

from django.conf import settings
from django.shortcuts import render
from django.template.loader import render_to_string

from retrieval.core.errors import user_error
from retrieval.core.forms import form_messages
from retrieval.core.streams import QueryStream, errors_fragment
from retrieval.engine.errors import EngineError
from retrieval.engine.images import decode_image
from retrieval.galleries import selectors

from .forms import LabQueryForm
from .queries import lab_query


def lab_page(request):
    example = selectors.example_image(request.GET.get("example") or request.POST.get("example"))
    if request.method == "POST":
        form = LabQueryForm(request.POST, request.FILES, image_bytes=_bytes_of(example) if example else None)
    elif example is not None:
        form = LabQueryForm({"k": request.GET.get("k"), "metric": request.GET.get("metric"),
                             "gallery": example.gallery.slug}, image_bytes=_bytes_of(example))
    else:
        chosen = request.GET.get("gallery")
        return _render(request, LabQueryForm(initial={"gallery": chosen} if chosen else None), status=200)
    if not form.is_valid():
        return _render(request, form, status=413 if form.too_large else 400)
    try:
        head, columns = _run(form, example)
        columns = list(columns)
    except EngineError as error:
        problem = user_error(error)
        form.add_error(None, problem.message)
        return _render(request, form, status=problem.status)
    return _render(request, form, head=head, columns=columns, status=200)


def start_lab_query(message: dict) -> tuple[str, QueryStream | None]:
    example = selectors.example_image(message.get("example"))
    data = {key: message.get(key) for key in ("k", "metric", "gallery")} | {"image_data": message.get("image") or ""}
    if example is not None:
        data["gallery"] = example.gallery.slug
    form = LabQueryForm(data, image_bytes=_bytes_of(example) if example else None)
    if not form.is_valid():
        return errors_fragment(form_messages(form)), None
    try:
        head, columns = _run(form, example)
    except EngineError as error:
        return errors_fragment([user_error(error).message]), None
    html = render_to_string("retrieval/lab/_results.html", {"head": head, "columns": [], "oob": True})
    return html, QueryStream(
        items=columns,
        card=lambda column: render_to_string("retrieval/lab/_column.html", {"column": column, "oob": True}),
        done=lambda shown: render_to_string("retrieval/lab/_status.html", {"shown": shown, "oob": True}))


def _run(form, example):
    data = form.cleaned_data
    decoded = decode_image(data["image_bytes"], max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
    return lab_query(gallery=data["gallery"], image=decoded.image, k=data["k"], metric=data["metric"], example=example)


def _chosen_gallery(form):
    from retrieval.models import Gallery

    slug = (form.data.get("gallery") if form.is_bound else form.initial.get("gallery")) or form.fields["gallery"].initial
    return Gallery.objects.filter(slug=slug).first()


def lab_examples(gallery, count: int = 17) -> list:
    """One gallery image per class (the first of each), for one-click queries."""
    from django.db.models import Min

    firsts = gallery.images.values("label").annotate(first=Min("id")).order_by("label").values_list("first", flat=True)
    return list(gallery.images.filter(pk__in=list(firsts)[:count]).order_by("label"))


def _bytes_of(image) -> bytes:
    with image.file.open("rb") as f:
        return f.read()


def _render(request, form, *, status: int, head=None, columns=()):
    gallery = head.gallery if head else _chosen_gallery(form)
    context = {"form": form, "head": head, "columns": columns, "error_messages": form_messages(form),
               "examples": lab_examples(gallery) if gallery else [],
               "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}
    return render(request, "retrieval/lab/page.html", context, status=status)
