"""Search results as every query kind shows them: ranked gallery images, each explained by its histogram.

The query's histograms are computed once per query, on a sample of at most
``HISTOGRAM_SIDE`` pixels a side (a histogram needs a few thousand pixels, not 36 million),
and reused for every hit. A gallery image's histograms are kept once computed (keyed by its
file's identity, so a replaced file is read again): a search that returns popular items
opens no file at all.
"""

import os
from dataclasses import dataclass
from functools import lru_cache

from django.core.files.storage import default_storage
from PIL import Image

from retrieval.engine.explain import DEFAULT_BINS, Histogram, histogram, histogram_distance
from retrieval.models import GalleryImage

HISTOGRAM_SIDE = 128
CACHED_HISTOGRAMS = 60_000  # about 1 KB each


def open_gallery_image(name: str) -> Image.Image:
    try:
        source = default_storage.path(name)  # a file on disk: Pillow reads it without a copy
    except NotImplementedError:  # remote storage
        source = default_storage.open(name, "rb")
    with Image.open(source) as image:
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


class QueryHistograms:
    """The query's histograms, grey and colour, each computed at most once, on a thumbnail."""

    def __init__(self, image: Image.Image, bins: int = DEFAULT_BINS):
        if max(image.size) > HISTOGRAM_SIDE:
            # Nearest-neighbour sampling: a sample of the pixels has the image's histogram,
            # where averaging neighbours would pull every value towards the mean.
            scale = HISTOGRAM_SIDE / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.NEAREST)
        self.image, self.bins, self._made = image, bins, {}

    @property
    def is_colour(self) -> bool:
        return self.image.mode == "RGB"

    def get(self, colour: bool) -> Histogram:
        if colour not in self._made:
            self._made[colour] = histogram(self.image, colour=colour, bins=self.bins)
        return self._made[colour]

    def compare(self, result: Image.Image) -> tuple[Histogram, Histogram, float]:
        """As ``engine.explain.compare_histograms``: one space, colour if either is colour."""
        colour = self.is_colour or result.mode == "RGB"
        hq, hr = self.get(colour), histogram(result, colour=colour, bins=self.bins)
        return hq, hr, histogram_distance(hq, hr)

    def compare_gallery(self, name: str) -> tuple[Histogram, Histogram, float]:
        """``compare`` with a gallery file, its histogram computed once per process."""
        result_colour, grey, rgb = gallery_histograms(name, _file_identity(name), self.bins)
        colour = self.is_colour or result_colour
        hq, hr = self.get(colour), rgb if colour else grey
        return hq, hr, histogram_distance(hq, hr)


def _file_identity(name: str) -> tuple:
    try:
        st = os.stat(default_storage.path(name))
        return st.st_mtime_ns, st.st_size
    except (NotImplementedError, OSError):
        return ()


@lru_cache(maxsize=CACHED_HISTOGRAMS)
def gallery_histograms(name: str, identity: tuple, bins: int) -> tuple[bool, Histogram | None, Histogram]:
    """(is colour, grey histogram or None for a colour image, colour histogram) of a gallery file."""
    image = open_gallery_image(name)
    colour = image.mode == "RGB"
    return colour, None if colour else histogram(image, colour=False, bins=bins), histogram(image, colour=True, bins=bins)


def explain_hits(query_image: Image.Image, hits):
    """Yield each hit with its histogram explanation, in rank order, as soon as it is ready."""
    rows = GalleryImage.objects.select_related("gallery").in_bulk([int(i) for i in hits.ids])
    query = QueryHistograms(query_image)
    for rank, (gallery_id, distance) in enumerate(zip(hits.ids, hits.distances, strict=True), start=1):
        image = rows.get(int(gallery_id))
        if image is None:  # deleted since the index was built
            continue
        hq, hr, hd = query.compare_gallery(image.file.name)
        yield ResultItem(rank=rank, image=image, distance=float(distance), query_histogram=hq,
                         result_histogram=hr, histogram_distance=hd)
