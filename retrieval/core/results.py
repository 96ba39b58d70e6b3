"""Search results as every query kind shows them: ranked gallery images, each explained by its histogram."""

import io
from dataclasses import dataclass

from django.core.files.storage import default_storage
from PIL import Image

from retrieval.engine.explain import Histogram, compare_histograms
from retrieval.models import GalleryImage


def open_gallery_image(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as f:
        image = Image.open(io.BytesIO(f.read()))
        image.load()
    return image if image.mode in ("L", "RGB") else image.convert("RGB")


@dataclass(frozen=True)
class ResultItem:
    rank: int
    image: GalleryImage
    distance: float
    query_histogram: Histogram
    result_histogram: Histogram
    histogram_distance: float


def explain_hits(query_image: Image.Image, hits):
    """Yield each hit with its histogram explanation, in rank order, as soon as it is ready."""
    rows = GalleryImage.objects.select_related("gallery").in_bulk([int(i) for i in hits.ids])
    for rank, (gallery_id, distance) in enumerate(zip(hits.ids, hits.distances, strict=True), start=1):
        image = rows.get(int(gallery_id))
        if image is None:  # deleted since the index was built
            continue
        hq, hr, hd = compare_histograms(query_image, open_gallery_image(image.file.name))
        yield ResultItem(rank=rank, image=image, distance=float(distance), query_histogram=hq,
                         result_histogram=hr, histogram_distance=hd)
