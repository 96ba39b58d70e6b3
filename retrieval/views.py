"""Pages: thin views that validate, call one service or selector, and render."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from . import selectors, services
from .engine.errors import EngineError
from .errors import user_error
from .forms import DEFAULT_K, DEFAULT_METRIC, METRIC_CHOICES, ImageSearchForm, NeighboursForm, current_choice, form_messages
from .models import Gallery, GalleryImage
from .presenters import query_preview


def search(request):
    """The upload page. GET shows the form (and runs ``?example=<id>``); POST searches."""
    example = selectors.example_image(request.GET.get("example"))
    if request.method == "POST":
        form = ImageSearchForm(request.POST, request.FILES)
    elif example is not None:
        with example.file.open("rb") as f:
            form = ImageSearchForm({"k": request.GET.get("k"), "metric": request.GET.get("metric"),
                                    "gallery": example.gallery.slug}, image_bytes=f.read())
    else:
        return _render_search(request, ImageSearchForm(), status=200)
    if not form.is_valid():
        return _render_search(request, form, status=413 if form.too_large else 400)
    try:
        outcome = services.image_search(gallery=form.cleaned_data["gallery"], data=form.cleaned_data["image_bytes"],
                                        k=form.cleaned_data["k"], metric=form.cleaned_data["metric"])
    except EngineError as error:
        problem = user_error(error)
        form.add_error("image" if problem.status != 503 else None, problem.message)
        return _render_search(request, form, status=problem.status)
    return _render_search(request, form, outcome=outcome, example=example, status=200)


def _render_search(request, form, *, status: int, outcome=None, example=None):
    context = {"form": form, "outcome": outcome, "example": example,
               "metric": outcome.metric if outcome else None,
               "current_metric": current_choice(form, "metric", dict(METRIC_CHOICES), DEFAULT_METRIC),
               "error_messages": form_messages(form),
               "preview": query_preview(outcome.query) if outcome else None,
               "examples": selectors.example_queries(),
               "max_upload_mb": settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)}
    template = "retrieval/_search_results.html" if request.htmx and request.method == "POST" else "retrieval/search.html"
    return render(request, template, context, status=status)



def gallery_list(request):
    return render(request, "retrieval/gallery_list.html", {"galleries": selectors.gallery_list()})


def gallery_detail(request, slug: str):
    gallery = get_object_or_404(Gallery, slug=slug)
    split = request.GET.get("split") if request.GET.get("split") in GalleryImage.Split.values else GalleryImage.Split.TRAIN
    label = _label_param(request.GET.get("label"), gallery)
    page = selectors.gallery_page(gallery=gallery, split=split, label=label, page=request.GET.get("page"))
    context = {"gallery": gallery, "page": page, "split": split, "label": label,
               "splits": GalleryImage.Split.choices, "counts": selectors.label_counts(gallery=gallery, split=split)}
    template = "retrieval/_gallery_grid.html" if request.htmx and not request.htmx.boosted else "retrieval/gallery_detail.html"
    return render(request, template, context)


def _label_param(value, gallery: Gallery) -> int | None:
    if value is None or value == "":
        return None
    if not value.lstrip("-").isdigit() or not 0 <= int(value) < len(gallery.class_names):
        raise Http404("No such class in this gallery.")
    return int(value)


def image_detail(request, slug: str, pk: int):
    image = get_object_or_404(GalleryImage.objects.select_related("gallery"), pk=pk, gallery__slug=slug)
    form = NeighboursForm(request.GET or None)
    valid = form.is_bound and form.is_valid()
    k, metric = (form.cleaned_data["k"], form.cleaned_data["metric"]) if valid else (DEFAULT_K, DEFAULT_METRIC)
    context = {"image": image, "form": form, "k": k, "metric": metric, "neighbours": [], "problem": None}
    try:
        hits = selectors.image_neighbours(image=image, k=k, metric=metric)
        context["neighbours"] = list(services.explain_hits(services.open_gallery_image(image.file.name), hits))
    except EngineError as error:
        context["problem"] = user_error(error).message
    return render(request, "retrieval/image_detail.html", context, status=400 if form.is_bound and not form.is_valid() else 200)
