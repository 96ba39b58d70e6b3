"""One lab query: the query described by every lab descriptor from one pass, then each
descriptor's top-k (a column), with "why it matched": the significance map of the query.

The head (the query, its significance overlay, the pass time) is ready first; the columns
follow one by one, so a websocket can send each as soon as its search and explanations finish.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Max, Min
from PIL import Image, ImageDraw

from retrieval.core.presenters import png_data_url
from retrieval.core.results import ResultItem, explain_hits
from retrieval.core.setup_state import require_prepared
from retrieval.engine.index import SearchHits
from retrieval.engine.lab.colour import BASELINE_BINS, histogram_vectors
from retrieval.engine.lab.index import LabIndex
from retrieval.models import Gallery, GalleryImage

from .embeddings import lab_embedding
from .services import BASELINE, DEFAULT_BACKBONE, default_weights, lab_extractor, lab_index_path, lab_indexes_build

TITLES = {"gap": "Plain code (GAP)", "conv": "Conv (significant activations)", "fc": "FC", "fc_conv": "FC + Conv (layers alike)",
          BASELINE: "Colour histogram (baseline)"}
COLUMNS = ("gap", "conv", "fc", "fc_conv", BASELINE)
_CACHE: dict[tuple[str, str], tuple[tuple, dict[str, LabIndex]]] = {}


@dataclass(frozen=True)
class LabColumn:
    name: str
    title: str
    items: list[ResultItem]
    ms: float  # this descriptor's search and explanations
    dim: int
    precision: float | None  # P@k against the query's class, when it has one
    mean_histogram_distance: float
    query_xy: tuple[float, float]  # where the query falls on this descriptor's embedding map


@dataclass(frozen=True)
class LabQueryHead:
    gallery: Gallery
    example: GalleryImage | None
    query_url: str  # the query as the network saw it (resized, no crop)
    overlay_url: str  # the same with the significant cells outlined
    significant: int
    grid: tuple[int, int]
    extract_ms: float  # the one forward pass that gives every lab descriptor
    k: int
    metric: str
    backbone: str = DEFAULT_BACKBONE
    cells: tuple[tuple[int, int], ...] = ()  # (row, column) of each significant cell
    columns: tuple[str, ...] = field(default=COLUMNS)


def gallery_lab_indexes(gallery: Gallery, backbone: str = DEFAULT_BACKBONE) -> dict[str, LabIndex]:
    """The gallery's lab indexes, loaded once per process while their files are unchanged."""
    require_prepared(gallery, gallery.slug, f"The gallery {gallery.name}")  # not while the set-up indexes it
    paths = [lab_index_path(gallery.slug, backbone, name) for name in COLUMNS]
    # The files' times, and the gallery's rows at a glance: a gallery deleted and imported
    # again under its slug has other ids, and an index of the old ones would find nothing.
    rows = gallery.images.filter(split=GalleryImage.Split.TRAIN).aggregate(n=Count("id"), low=Min("id"), high=Max("id"))
    stamp = (*(p.stat().st_mtime_ns if p.exists() else None for p in paths), gallery.pk, *rows.values())
    cached = _CACHE.get((gallery.slug, backbone))
    if cached and cached[0] == stamp and None not in stamp[:len(paths)]:
        return cached[1]
    indexes = lab_indexes_build(gallery=gallery, backbone=backbone)
    _CACHE[(gallery.slug, backbone)] = ((*(p.stat().st_mtime_ns for p in paths), *stamp[len(paths):]), indexes)
    return indexes


def lab_query(*, gallery: Gallery, image: Image.Image, k: int, metric: str, example: GalleryImage | None = None,
              backbone: str = DEFAULT_BACKBONE) -> tuple[LabQueryHead, Iterator[LabColumn]]:
    indexes = gallery_lab_indexes(gallery, backbone)
    extractor = lab_extractor(backbone, default_weights(backbone))
    t0 = time.perf_counter()
    extraction = extractor.extract([image])
    extract_ms = 1000 * (time.perf_counter() - t0)
    vectors = dict(extraction.vectors)
    vectors[BASELINE] = histogram_vectors([image], colour=indexes[BASELINE].meta.get("colour", True), bins=BASELINE_BINS)
    mask = extraction.masks[0]
    shown = Image.fromarray(extractor.prepare(image))
    head = LabQueryHead(gallery=gallery, example=example, query_url=png_data_url(shown),
                        overlay_url=png_data_url(significance_overlay(shown, mask)), significant=int(mask.sum()),
                        grid=mask.shape, extract_ms=round(extract_ms, 1), k=k, metric=metric, backbone=backbone,
                        cells=tuple((int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)))
    return head, _columns(head, indexes, vectors, image, example)


def _columns(head: LabQueryHead, indexes, vectors, image, example) -> Iterator[LabColumn]:
    k = head.k
    for name in COLUMNS:
        t0 = time.perf_counter()
        hits = _without(indexes[name].search(vectors[name], k + 1, head.metric), example, k)
        items = list(explain_hits(image, hits))
        precision = None
        if example is not None and example.label is not None and items:
            precision = round(float(np.mean([item.image.label == example.label for item in items])), 3)
        ms = round(1000 * (time.perf_counter() - t0), 1)
        # The map is fitted at a gallery's first query (then read from its file): not the search's time.
        embedding = lab_embedding(gallery=head.gallery, backbone=head.backbone, descriptor=name, index=indexes[name])
        x, y = embedding.project(indexes[name].encode(vectors[name]))[0]
        yield LabColumn(name=name, title=TITLES[name], items=items, ms=ms,
                        dim=indexes[name].dim, precision=precision,
                        mean_histogram_distance=round(float(np.mean([i.histogram_distance for i in items] or [0])), 4),
                        query_xy=(round(float(x), 5), round(float(y), 5)))


def _without(hits: SearchHits, example: GalleryImage | None, k: int) -> SearchHits:
    """The first query's top k, leaving out the query itself when it is a gallery image."""
    keep = [i for i, gallery_id in enumerate(hits.ids[0]) if example is None or int(gallery_id) != example.pk][:k]
    return SearchHits(ids=hits.ids[0][keep], distances=hits.distances[0][keep], labels=hits.labels[0][keep])


def significance_overlay(image: Image.Image, mask: np.ndarray) -> Image.Image:
    """The query with the cells that were not significant darkened (stamps and shop photos sit
    on white, which a wash to white would hide) and the significant ones outlined: each outlined
    cell is the patch (16, 8, 4, 2, 1 px a side in blocks 1-5 at 224 px) whose activations were
    averaged into the Conv descriptor."""
    out = image.convert("RGB").copy()
    wash = Image.new("RGB", out.size, (24, 24, 32))
    h, w = mask.shape
    cell_w, cell_h = out.width / w, out.height / h
    faded = Image.blend(out, wash, 0.6)
    keep = Image.new("L", out.size, 0)
    draw_keep = ImageDraw.Draw(keep)
    for i, j in zip(*np.nonzero(mask), strict=True):
        draw_keep.rectangle([j * cell_w, i * cell_h, (j + 1) * cell_w - 1, (i + 1) * cell_h - 1], fill=255)
    out = Image.composite(out, faded, keep)
    draw = ImageDraw.Draw(out)
    for i, j in zip(*np.nonzero(mask), strict=True):
        box = [j * cell_w, i * cell_h, (j + 1) * cell_w - 1, (i + 1) * cell_h - 1]
        draw.rectangle(box, outline=(229, 72, 77), width=1)
    return out
