"""The gallery pages: the list, one gallery (by class, paged) and one image with its neighbours."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from retrieval.core.errors import user_error
from retrieval.core.forms import DEFAULT_K, DEFAULT_METRIC
from retrieval.core.results import explain_hits, open_gallery_image
from retrieval.engine.errors import EngineError
from retrieval.galleries import selectors
from retrieval.galleries.forms import NeighboursForm
from retrieval.models import Gallery, GalleryImage


def gallery_list(request):
    return render(request, "retrieval/gallery_list.html", {"galleries": selectors.gallery_list()})


def gallery_detail(request, slug: str):
    gallery = get_object_or_404(Gallery, slug=slug)
    split = request.GET.get("split") if request.GET.get("split") in GalleryImage.Split.values else GalleryImage.Split.TRAIN
    label = _label_param(request.GET.get("label"), gallery)
    asked = request.GET.get("page")
    page = selectors.gallery_page(gallery=gallery, split=split, label=label, page=asked)
    counts = selectors.label_counts(gallery=gallery, split=split)
    context = {"gallery": gallery, "page": page, "split": split, "label": label, "splits": GalleryImage.Split.choices,
               "chips": _class_chips(gallery, counts, label), "asked": asked,
               "moved": bool(asked) and not (asked.strip().isdigit() and int(asked) == page.number),
               "filter_query": _filter_query(split, label)}
    template = "retrieval/_gallery_grid.html" if request.htmx and not request.htmx.boosted else "retrieval/gallery_detail.html"
    return render(request, template, context)


def _class_chips(gallery: Gallery, counts: dict[int, int], label: int | None) -> list[dict]:
    """"All" then one chip per class, each with its image count and whether it is the filter in use."""
    chips = [{"label": None, "name": "All", "count": sum(counts.values()), "current": label is None}]
    return chips + [{"label": i, "name": name, "count": counts.get(i, 0), "current": label == i}
                    for i, name in enumerate(gallery.class_names)]


def _filter_query(split: str, label: int | None) -> str:
    """The query string of the filter in use, which every page link keeps."""
    return urlencode({"split": split, **({} if label is None else {"label": label})})


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
        context["neighbours"] = list(explain_hits(open_gallery_image(image.file.name), hits))
    except EngineError as error:
        context["problem"] = user_error(error).message
    context["same_class"] = sum(item.image.label == image.label for item in context["neighbours"])
    return render(request, "retrieval/image_detail.html", context, status=400 if form.is_bound and not form.is_valid() else 200)
