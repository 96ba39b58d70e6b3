"""One composites query: the composite (built from picked gallery images, or uploaded), the
portal's explain-away search with the region each source explains, the GAN's reconstruction,
and the top k of every global method (the paper's GAN + autoencoder latent, the autoencoder
alone, the trained descriptor, raw pixels), with the true sources marked when they are known."""

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from retrieval.core.presenters import png_data_url
from retrieval.core.results import ResultItem, explain_hits
from retrieval.engine.composites import builders
from retrieval.engine.composites.fits import Framed, centred_box
from retrieval.engine.errors import InvalidImage, NotReady
from retrieval.engine.index import SearchHits
from retrieval.models import GalleryImage

from .services import METHODS, TITLES, composite_gallery, latent_model, search

COLOURS = ("#e5484d", "#3e63dd", "#30a46c", "#f5a524")
SHOWN = 192  # px the composite, its regions and the reconstruction are shown at


@dataclass(frozen=True)
class FoundSource:
    item: ResultItem
    box: tuple[int, int, int, int]  # region in the composite as shown (``CompositeOutcome.shown``)
    how: str
    true: bool | None  # None: the true sources are not known (an uploaded composite)
    colour: str
    more: tuple[tuple[int, int, int, int], ...] = ()  # other regions it explains, as box


@dataclass(frozen=True)
class MethodColumn:
    name: str
    title: str
    items: list[tuple[ResultItem, bool | None]]
    recall: float | None  # share of the true sources in its top k


@dataclass(frozen=True)
class CompositeOutcome:
    gallery: object
    combine: str
    composite_url: str
    regions_url: str
    reconstruction_url: str | None
    hypothesis: str
    found: list[FoundSource]
    columns: list[MethodColumn] = field(default_factory=list)
    true_sources: list[GalleryImage] = field(default_factory=list)
    k: int = 6
    ms: float = 0.0
    note: str = ""
    shown: tuple[int, int] = (SHOWN, SHOWN)  # the composite's width and height on the page

    @property
    def true_found(self) -> int:
        return sum(bool(f.true) for f in self.found)


def _picture(array: np.ndarray, size: tuple[int, int] = (SHOWN, SHOWN)) -> Image.Image:
    data = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    image = Image.fromarray(data[0], "L") if data.shape[0] == 1 else Image.fromarray(data.transpose(1, 2, 0), "RGB")
    return image.convert("RGB").resize(size, Image.Resampling.NEAREST)


def _shown(framed: Framed | None) -> tuple[int, int]:
    """The composite's size on the page: ``SHOWN`` px on its longer side, at its own aspect ratio
    (an upload that is not square is searched squeezed, but shown as it was made)."""
    if framed is None:
        return SHOWN, SHOWN
    x0, y0, x1, y1 = centred_box(framed.aspect, SHOWN)
    return x1 - x0, y1 - y0


def build_composite(cg, cleaned: dict) -> tuple[np.ndarray, list[int], Framed | None]:
    """The composite [C, S, S], the gallery rows it was made from (none for an upload) and, for
    a non-square upload, the upload at its own aspect (``CompositeGallery.upload_arrays``)."""
    if cleaned["combine"] == "upload":
        composite, framed = cg.upload_arrays(cleaned["image_bytes"])
        return composite, [], framed
    rows = [cg.row_of(i) for i in cleaned["sources"]]
    if None in rows:
        missing = [i for i, r in zip(cleaned["sources"], rows, strict=True) if r is None]
        raise InvalidImage(f"There is no image {', '.join(map(str, missing))} in {cg.gallery.name} to combine.")
    kind = cleaned["combine"]
    images = [cg.arrays.sources_for(kind)[r] for r in rows]
    if kind == "blend":
        composite = builders.blend(images, cleaned["alphas"] or None)
    elif kind == "collage":
        composite = builders.collage(images, cleaned["layout"] or builders.LAYOUTS_FOR[len(images)][0])
    else:
        rng = np.random.default_rng(cleaned["seed"])
        side = round(cleaned["scale"] * cg.arrays.size)
        placements = builders.random_placements(len(images), cg.arrays.size, rng, (side / cg.arrays.size,) * 2)
        composite = builders.paste(images, [cg.arrays.masks[r] for r in rows], placements,
                                   (cleaned["texture"], cleaned["seed"]))
    return composite.image, rows, None


def _items(cg, picture, rows, distances) -> list[ResultItem]:
    ids = cg.arrays.ids[np.asarray(rows, np.int64)]
    hits = SearchHits(ids=ids, distances=np.asarray(distances, np.float32), labels=np.zeros(len(ids), np.int64))
    return list(explain_hits(picture, hits))


def composites_query(cleaned: dict) -> CompositeOutcome:
    started = time.perf_counter()
    cg = composite_gallery(cleaned["gallery"].slug)
    composite, true_rows, framed = build_composite(cg, cleaned)
    picture = _picture(composite)
    k, truth = cleaned["k"], set(cg.arrays.ids[true_rows].tolist()) if true_rows else None
    rows, distances, explanation = search("explain", cg, composite, k, framed)
    pixels = cg.arrays.work_flat
    work = _work(cg, composite)
    distances = [d if d is not None else float(np.linalg.norm(pixels[r] - work)) for r, d in zip(rows, distances, strict=True)]
    by_row = {f.row: f for f in explanation.found}
    shown = _shown(framed)
    sx, sy = shown[0] / cg.arrays.size, shown[1] / cg.arrays.size
    shown_picture = _picture(composite, shown)
    found, regions = [], shown_picture.copy()
    draw = ImageDraw.Draw(regions)
    for i, item in enumerate(_items(cg, picture, rows, distances)):
        f = by_row.get(rows[i])
        boxes = tuple((round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)) for x0, y0, x1, y1 in f.boxes) \
            if f else ((0, 0, 0, 0),)
        colour = COLOURS[i % len(COLOURS)] if f else "#8b8d98"
        for box in boxes if f else ():
            draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=colour, width=3)
        found.append(FoundSource(item, boxes[0], f.how if f else "also close",
                                 None if truth is None else item.image.pk in truth, colour, boxes[1:]))
    try:
        reconstruction = png_data_url(_picture(latent_model("encoder", cg.gallery.slug).reconstruct(composite[None])[0], shown))
    except NotReady:
        reconstruction = None
    columns = []
    for method in METHODS[1:]:
        try:
            m_rows, m_dist, _ = search(method, cg, composite, k)
        except NotReady:
            continue
        items = _items(cg, picture, m_rows, m_dist)
        marks = [None if truth is None else item.image.pk in truth for item in items]
        recall = None if truth is None else round(len(truth & {i.image.pk for i in items}) / len(truth), 2)
        columns.append(MethodColumn(method, TITLES[method], list(zip(items, marks, strict=True)), recall))
    true_sources = list(GalleryImage.objects.filter(pk__in=truth or ()).order_by("pk")) if truth else []
    return CompositeOutcome(
        gallery=cg.gallery, combine=cleaned["combine"], composite_url=png_data_url(shown_picture), shown=shown,
        regions_url=png_data_url(regions), reconstruction_url=reconstruction, hypothesis=explanation.hypothesis,
        found=found, columns=columns, true_sources=true_sources, k=k, ms=round(1000 * (time.perf_counter() - started), 1),
        note="" if cg.seen_by_models else "Held-out gallery: the models never saw these images.")


def _work(cg, composite):
    from retrieval.engine.composites.gallery import downsample

    return downsample(composite[None], cg.arrays.work.shape[-1]).reshape(-1)
