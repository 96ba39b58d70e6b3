"""Search results as every query kind shows them: ranked gallery images, each explained by its histogram.

The query's histograms are computed once per query, on a sample of at most
``HISTOGRAM_SIDE`` pixels a side (a histogram needs a few thousand pixels, not 36 million),
and reused for every hit. A gallery image's pixel counts are stored with its row when it is
imported (``stored_counts``), so explaining a hit opens no file: the hits' rows come in one
query and carry their histograms. Rows from before that are explained from their files,
each kept once computed (keyed by its file's identity, so a replaced file is read again).
"""

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image

from retrieval.engine.explain import DEFAULT_BINS, Histogram, from_counts, histogram, histogram_distance, pixel_counts
from retrieval.models import Gallery, GalleryImage

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

    def compare_row(self, row: GalleryImage) -> tuple[Histogram, Histogram, float]:
        """``compare`` with a gallery image, from the counts stored with its row where it has them."""
        counts = _row_counts(row, self.bins)
        if counts is not None:
            colour = self.is_colour or counts.shape[0] == 3
            hq, hr = self.get(colour), from_counts(counts, colour=colour)
            return hq, hr, histogram_distance(hq, hr)
        return self.compare_gallery(row.file.name)

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


def stored_counts(image: Image.Image | np.ndarray) -> bytes:
    """What a gallery row stores as its ``histogram``: the pixel counts of the image as
    ``open_gallery_image`` reads it (grey stays grey; anything else is RGB)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode in ("L", "RGB") else image.convert("RGB"))
    return pixel_counts(image, DEFAULT_BINS).astype("<u4").tobytes()


def _row_counts(row: GalleryImage, bins: int) -> np.ndarray | None:
    if not row.histogram or bins != DEFAULT_BINS:
        return None
    counts = np.frombuffer(bytes(row.histogram), dtype="<u4")
    return counts.reshape(-1, DEFAULT_BINS) if counts.size in (DEFAULT_BINS, 3 * DEFAULT_BINS) else None


def hit_rows(ids, gallery: Gallery | None = None) -> dict[int, GalleryImage]:
    """The hits' rows by id, in one query. A raw query: the ORM's query compiler costs more than
    the query itself (about 1 ms of the 1.8 a search's rows took). Their galleries come from
    ``gallery`` when the caller knows it (one index holds one gallery), else from one more query."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    table = GalleryImage._meta.db_table
    rows = {row.pk: row for row in GalleryImage.objects.raw(
        f"SELECT * FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)}  # noqa: S608 -- ids are ints
    known = {gallery.pk: gallery} if gallery is not None else {}
    missing = {row.gallery_id for row in rows.values()} - known.keys()
    if missing:
        known.update(Gallery.objects.in_bulk(missing))
    for row in rows.values():
        row.gallery = known[row.gallery_id]
    return rows


def explain_hits(query_image: Image.Image, hits, gallery: Gallery | None = None):
    """Yield each hit with its histogram explanation, in rank order, as soon as it is ready."""
    rows = hit_rows(hits.ids, gallery)
    query = QueryHistograms(query_image)
    for rank, (gallery_id, distance) in enumerate(zip(hits.ids, hits.distances, strict=True), start=1):
        image = rows.get(int(gallery_id))
        if image is None:  # deleted since the index was built
            continue
        hq, hr, hd = query.compare_row(image)
        yield ResultItem(rank=rank, image=image, distance=float(distance), query_histogram=hq,
                         result_histogram=hr, histogram_distance=hd)
