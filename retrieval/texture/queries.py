"""One texture query: the patch its box cuts from the query image, its code at the chosen
length, the gallery ranked by Hamming distance (each hit with its code and its histogram
explanation), the TSN's expansion of the patch, and for a labelled query (a gallery texture)
its precision-recall curve over the whole gallery at that length."""

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image, ImageDraw

from retrieval.core.presenters import png_data_url
from retrieval.core.results import ResultItem, explain_hits
from retrieval.engine.errors import EngineError
from retrieval.engine.images import decode_image
from retrieval.engine.index import SearchHits
from retrieval.engine.texture import serving

from . import services
from .presenters import bit_strip

SOURCE_SIDE = 320  # px the query image is shown at, its box drawn on it
SHOWN = 128  # px the patch and its expansion are shown at
DECODE_SIDE = 2048  # a box is cut at up to this resolution (a texture's detail matters)


@dataclass(frozen=True)
class TextureHit:
    item: ResultItem
    code: np.ndarray  # uint8 {0, 1} [bits]
    matches: np.ndarray  # bool [bits]: the bit equals the query's

    @property
    def matching(self) -> int:
        return int(self.matches.sum())

    @property
    def strip(self) -> dict:
        return bit_strip(self.query_code, self.code)

    @property
    def query_code(self) -> np.ndarray:
        return np.where(self.matches, self.code, 1 - self.code)


@dataclass
class TextureOutcome:
    gallery: object
    bits: int
    k: int
    box: serving.Box
    image_size: tuple[int, int]
    source_url: str
    patch_url: str
    expansion_url: str | None
    code: np.ndarray  # the query's bits
    example: object | None  # the labelled gallery texture queried, if any
    pr: dict | None  # {"radius", "precision", "recall"} at every radius 0..bits
    average_precision: float | None
    relevant: int  # gallery textures of the query's class (the query itself left out)
    checkpoint_id: str
    variant: str
    ms: float
    hits: list[TextureHit]

    @property
    def strip(self) -> dict:
        return bit_strip(self.code)

    @property
    def labelled(self) -> bool:
        return self.example is not None


def texture_query(cleaned: dict) -> tuple[TextureOutcome, Iterator[TextureHit]]:
    """The outcome's head now; its hits as a lazy iterator (``outcome.hits`` is filled by
    ``texture_search`` for the page and the API, card by card on the websocket)."""
    started = time.perf_counter()
    decoded = decode_image(cleaned["image_bytes"], max_pixels=settings.RETRIEVAL["MAX_PIXELS"], max_side=DECODE_SIDE)
    width, height = decoded.width or decoded.image.width, decoded.height or decoded.image.height
    box = cleaned.get("box") or serving.default_box(width, height)
    serving.check_box(box, width, height)
    factor = decoded.image.width / width
    region, patch = serving.cut_patch(decoded.image, box, factor)
    model, indexes = services.hasher(), services.texture_indexes()
    bits = cleaned["bits"]
    if bits not in indexes.by_bits:
        raise EngineError(f"The serving checkpoint has no {bits}-bit codes: choose one of "
                                 f"{', '.join(map(str, indexes.by_bits))}.")
    index = indexes.index(bits)
    packed = model.codes(patch[None])[bits]
    code = serving.bits_of(packed, bits)
    hits = index.search(packed, cleaned["k"])
    example = cleaned.get("example")
    pr, ap, relevant = (serving.labelled_curve(index, packed, example.label, indexes.positions.get(example.pk))
                        if example is not None else (None, None, 0))
    tsn = services.generator()
    outcome = TextureOutcome(
        gallery=indexes.gallery, bits=bits, k=cleaned["k"], box=box, image_size=(width, height),
        source_url=png_data_url(_source(decoded.image, box, factor)), patch_url=png_data_url(_shown(patch)),
        expansion_url=png_data_url(_shown(serving.expand(tsn, patch))) if tsn is not None else None,
        code=code, example=example, pr=pr, average_precision=ap, relevant=relevant,
        checkpoint_id=model.checkpoint_id, variant=model.variant, ms=0.0, hits=[])
    outcome.ms = round(1000 * (time.perf_counter() - started), 1)
    float_hits = SearchHits(ids=hits.ids[0], distances=hits.distances[0].astype(np.float32), labels=hits.labels[0])
    items = explain_hits(region, float_hits, indexes.gallery)
    return outcome, _with_codes(items, index, indexes.positions, code)


def texture_search(cleaned: dict) -> TextureOutcome:
    outcome, hits = texture_query(cleaned)
    outcome.hits = list(hits)
    return outcome


def _with_codes(items, index, positions: dict[int, int], query_code: np.ndarray) -> Iterator[TextureHit]:
    for item in items:
        code = serving.bits_of(index.codes[positions[item.image.pk]], index.bits)
        yield TextureHit(item, code, code == query_code)


def _shown(array: np.ndarray) -> Image.Image:
    return Image.fromarray(array, "RGB").resize((SHOWN, SHOWN), Image.Resampling.NEAREST)


def _source(image: Image.Image, box: serving.Box, factor: float) -> Image.Image:
    """The query image at most ``SOURCE_SIDE`` px (small ones enlarged, pixels kept), its box drawn."""
    scale = SOURCE_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    shown = image.convert("RGB").resize(size, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS)
    x0, y0, x1, y1 = (v * scale for v in box.scaled(factor))
    draw = ImageDraw.Draw(shown)
    draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=(255, 255, 255), width=3)
    draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=(229, 72, 77), width=2)
    return shown
