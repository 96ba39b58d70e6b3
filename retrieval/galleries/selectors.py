"""Reads: what pages and the API show."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, QuerySet

from retrieval.core.runtime import engine, serving_pair
from retrieval.engine.index import SearchHits
from retrieval.models import Gallery, GalleryImage


def gallery_list() -> QuerySet[Gallery]:
    return Gallery.objects.annotate(image_count=Count("images"))


def gallery_images(*, gallery: Gallery, split: str = GalleryImage.Split.TRAIN,
                   label: int | None = None) -> QuerySet[GalleryImage]:
    images = gallery.images.filter(split=split)
    return images if label is None else images.filter(label=label)


def gallery_page(*, gallery: Gallery, split: str, label: int | None, page: int | str | None, per_page: int = 60) -> Page:
    """One page of a gallery. A page number past either end gives the nearest end and a
    malformed one the first page, so a typed "go to page" never answers an error."""
    paginator = Paginator(gallery_images(gallery=gallery, split=split, label=label), per_page)
    return paginator.page(page_number_clamped(page, paginator.num_pages))


def page_number_clamped(value: int | str | None, last: int) -> int:
    text = str(value if value is not None else "").strip()
    number = int(text) if text.lstrip("-").isdigit() else 1
    return min(max(number, 1), max(last, 1))


def label_counts(*, gallery: Gallery, split: str) -> dict[int, int]:
    rows = gallery.images.filter(split=split).values("label").annotate(n=Count("id"))
    return {row["label"]: row["n"] for row in rows}


def example_queries(*, count: int = 10) -> list[GalleryImage]:
    """One query image per class from the default gallery's test split, for one-click demos."""
    gallery = Gallery.default()
    if gallery is None:
        return []
    firsts = (gallery.images.filter(split=GalleryImage.Split.TEST).values("label")
              .annotate(first=Min("id")).order_by("label").values_list("first", flat=True))
    return list(GalleryImage.objects.select_related("gallery").filter(pk__in=list(firsts)[:count]).order_by("label"))


def example_image(value, gallery: Gallery | None = None) -> GalleryImage | None:
    """The labelled gallery image a query came from, when a page or message names it by id
    (in ``gallery`` when given); None for anything else."""
    if not str(value or "").isdigit():
        return None
    images = GalleryImage.objects.select_related("gallery")
    return images.filter(pk=int(value), **({"gallery": gallery} if gallery else {})).first()


def image_neighbours(*, image: GalleryImage, k: int, metric: str) -> SearchHits:
    """The k nearest indexed gallery items to ``image``. Query-split images are described
    on the fly; gallery images use their stored vector."""
    slug = image.gallery.slug
    pair = serving_pair(slug)
    if image.pk in pair.index:
        hits = engine().neighbours(slug, image.pk, k=k, metric=metric)
    else:
        from retrieval.core.results import open_gallery_image

        vector = pair.descriptor.describe_images([open_gallery_image(image.file.name)])
        row = pair.index.search(vector, k, metric)
        hits = SearchHits(ids=row.ids[0], distances=row.distances[0], labels=row.labels[0], method=row.method)
    return hits
