"""What the composite search needs of a gallery, loaded once per process: its images at the
models' side (``GalleryArrays``), the two latent models and their gallery latents, the trained
descriptor's vectors, and every method's search of a batch of composites.

Galleries: the stamps (all 1,049 images; the composite models were trained on them, so the
search looks for images the models saw, as the paper's) and Fashion-MNIST's test split (held
out: the models learned from the training split only)."""

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from retrieval.core.results import open_gallery_image
from retrieval.core.setup_state import require_prepared
from retrieval.engine.composites.config import GALLERIES, SHORT
from retrieval.engine.composites.data import gallery_shape, to_array, to_framed
from retrieval.engine.composites.explain import explain, ranking
from retrieval.engine.composites.fits import Framed
from retrieval.engine.composites.gallery import GalleryArrays
from retrieval.engine.composites.search import LatentModel, nearest
from retrieval.engine.errors import NotReady
from retrieval.engine.images import decode_image
from retrieval.models import Gallery, GalleryImage

METHODS = ("explain", "gan_ae", "ae", "descriptor", "pixel")
TITLES = {"explain": "Portal: region-wise explain-away", "gan_ae": "Paper: GAN + autoencoder latent",
          "ae": "Autoencoder alone", "descriptor": "Trained descriptor", "pixel": "Raw pixels"}
SPLIT = {"tuxpaint-stamps": GalleryImage.Split.TRAIN, "fashion-mnist": GalleryImage.Split.TEST}
_LOCK = threading.Lock()
WARMED = "tuxpaint-stamps"  # the page's default gallery: its first query is paid at start-up
log = logging.getLogger(__name__)


def supported(slug: str) -> bool:
    return slug in GALLERIES


@dataclass
class CompositeGallery:
    gallery: Gallery
    arrays: GalleryArrays
    rows: dict  # gallery image id -> row
    seen_by_models: bool
    spaces: "Spaces | None" = None
    files: tuple = ()  # each row's stored file, as imported (its own size and aspect)

    def row_of(self, image_id: int) -> int | None:
        return self.rows.get(int(image_id))

    def picture(self, row: int) -> Image.Image:
        """The row's stored image as a person downloads it (Fashion-MNIST's 28 px item with the
        models' 2 px of black around it, so that a composite of it lines up with the gallery's)."""
        picture = open_gallery_image(self.files[row])
        if picture.size == (28, 28) and self.arrays.size == 32:
            framed = Image.new(picture.mode, (32, 32), 0)
            framed.paste(picture, (2, 2))
            return framed
        return picture

    def upload_arrays(self, data: bytes) -> tuple[np.ndarray, Framed | None]:
        """An uploaded composite's bytes as the search reads them: decoded under the portal's
        limits, then [C, S, S] at the models' side and, for a non-square upload, also fitted at its
        own aspect ratio, where its pastes are searched (squeezed, a pasted stamp loses its shape)."""
        decoded = decode_image(data, max_pixels=settings.RETRIEVAL["MAX_PIXELS"])
        size, channels = self.arrays.size, self.arrays.channels
        return to_array(decoded.image, size, channels), to_framed(decoded.image, size, channels, self.arrays.background)


def _cache_path(slug: str, count: int) -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"]) / "composites" / f"{slug}-{count}.npz"


@lru_cache(maxsize=4)
def composite_gallery(slug: str, limit: int | None = None) -> CompositeGallery:
    """The gallery's images at the models' side, in id order (the first ``limit`` only)."""
    if not supported(slug):
        raise NotReady(f"Composites are searched in {' and '.join(GALLERIES)}, not {slug}.")
    # checked before the cache keeps a half-imported gallery
    gallery = require_prepared(Gallery.objects.filter(slug=slug).first(), slug, f"The gallery {slug}")
    limit = limit or (2000 if slug == "fashion-mnist" else None)
    rows = list(gallery.images.filter(split=SPLIT[slug]).order_by("id").values_list("id", "file", "width", "height")[:limit])
    if not rows:
        raise NotReady(f"The gallery {slug} has no images to search.")
    size, channels, background = gallery_shape(slug)
    ids = np.array([r[0] for r in rows], np.int64)
    path = _cache_path(slug, len(rows))
    images = None
    if path.exists():
        with np.load(path) as stored:
            if np.array_equal(stored["ids"], ids):
                images = stored["images"].astype(np.float32) / 255.0
    if images is None:
        images = np.stack([to_array(open_gallery_image(row[1]), size, channels) for row in rows])
        from retrieval.engine.fileio import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, ids=ids, images=(images * 255).round().astype(np.uint8))
        images = (images * 255).round() / 255.0  # as a later load will read it
    aspects = np.array([w / h if w and h else 1.0 for _, _, w, h in rows], np.float64)
    arrays = GalleryArrays(ids, images.astype(np.float32), background, aspects)
    return CompositeGallery(gallery, arrays, {int(i): r for r, i in enumerate(ids)}, slug == "tuxpaint-stamps",
                            files=tuple(r[1] for r in rows))


def checkpoint_path(family: str, slug: str) -> Path:
    return Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / f"composites-{family}-{SHORT[slug]}.pt"


@lru_cache(maxsize=8)
def latent_model(family: str, slug: str) -> LatentModel:
    path = checkpoint_path(family, slug)
    if not path.exists():
        command = "composites_encoder" if family == "encoder" else "composites_ae"
        raise NotReady(f"{path.name} is missing: run `manage.py train {command} --gallery {slug}`.")
    return LatentModel.load(path)


class Spaces:
    """Every global method's gallery vectors and how it describes a batch of composites."""

    def __init__(self, cg: CompositeGallery):
        self.cg = cg
        self._vectors: dict[str, np.ndarray] = {}

    def describe(self, method: str, images: np.ndarray) -> np.ndarray:
        if method == "pixel":
            from retrieval.engine.composites.gallery import downsample

            return downsample(images, self.cg.arrays.work.shape[-1]).reshape(len(images), -1)
        if method in ("gan_ae", "ae"):
            return latent_model("encoder" if method == "gan_ae" else "ae", self.cg.gallery.slug).encode(images)
        if method == "descriptor":
            return _descriptor_vectors(self.cg.gallery.slug, images)
        raise KeyError(method)

    def gallery_vectors(self, method: str) -> np.ndarray:
        with _LOCK:
            if method not in self._vectors:
                self._vectors[method] = (self.cg.arrays.work_flat if method == "pixel"
                                         else self.describe(method, self.cg.arrays.images))
            return self._vectors[method]


def spaces(cg: CompositeGallery) -> Spaces:
    with _LOCK:
        if cg.spaces is None:
            cg.spaces = Spaces(cg)
        return cg.spaces


def _descriptor_vectors(slug: str, images: np.ndarray) -> np.ndarray:
    """The portal's trained descriptor: the Fashion-MNIST CNN that serves the gallery, or for
    the stamps the plain ImageNet code (EfficientNet-Lite0, pooled) that the lab serves them with."""
    pictures = [Image.fromarray((np.clip(x, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0).squeeze(-1)
                                if x.shape[0] == 1 else
                                (np.clip(x, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)) for x in images]
    if slug == "fashion-mnist":
        from retrieval.core.runtime import serving_checkpoint_path

        arrays = np.stack([np.asarray(p)[2:30, 2:30] for p in pictures])  # the 28 px item inside the padding
        return _fmnist_descriptor(str(serving_checkpoint_path(slug))).describe_arrays(arrays)
    from retrieval.lab.services import lab_extractor

    return lab_extractor().extract(pictures).vectors["gap"]


@lru_cache(maxsize=2)
def _fmnist_descriptor(path: str):
    from retrieval.engine.descriptors import load_descriptor

    return load_descriptor(path)


def search(method: str, cg: CompositeGallery, composite: np.ndarray, k: int, framed: Framed | None = None):
    """One composite [C, S, S] -> (rows, distances, explanation or None) of ``method``
    (``framed``: a non-square upload at its own aspect, for the explain-away's pastes)."""
    if method == "explain":
        explanation = explain(cg.arrays, composite, framed=framed)
        rows = ranking(explanation, k)
        by_row = {f.row: f.distance for f in explanation.found}
        return rows, [by_row.get(r) for r in rows], explanation
    space = spaces(cg)
    rows, distances = nearest(space.gallery_vectors(method), space.describe(method, composite[None]), k)
    return rows[0].tolist(), distances[0].tolist(), None


def warm(slug: str = WARMED) -> list[str]:
    """Build what the gallery's first composite query would otherwise pay for (its arrays,
    every method's gallery vectors, the paste search's templates: tens of seconds on a busy
    CPU) by searching one composite of each kind with every method; the methods warmed."""
    from retrieval.engine.composites.builders import KINDS, random_composite

    cg, rng, warmed = composite_gallery(slug), np.random.default_rng(0), []
    composites = [random_composite(kind, list(cg.arrays.sources_for(kind)[:3]), rng, background=cg.arrays.background).image
                  for kind in KINDS]
    for method in METHODS:
        try:
            for composite in composites:
                search(method, cg, composite, 1)
        except NotReady:  # a model not trained yet: its column is left out of queries too
            continue
        warmed.append(method)
    return warmed


def warm_in_background(pair=None, *, wait_s: float = 3600, poll_s: float = 30) -> threading.Thread:
    """At server start-up, in a thread of its own (the portal answers meanwhile): ``warm`` the
    page's default gallery. `make run` prepares the stamps beside the server once it serves, so
    while the gallery is not ready yet the thread looks again every ``poll_s`` for ``wait_s``."""

    def run():
        from django.db import connection

        started = time.perf_counter()
        try:
            while True:
                began = time.perf_counter()
                try:
                    methods = warm()
                    break
                except NotReady as error:
                    if time.perf_counter() - started > wait_s:
                        log.info("composites not warmed: %s", error)
                        return
                    connection.close()  # no connection held open while it waits
                    time.sleep(poll_s)
            log.info("composites: %s warmed in %.1f s (%s)", WARMED, time.perf_counter() - began, ", ".join(methods))
        except Exception:  # noqa: BLE001 - a background job logs, it never takes the server down
            log.exception("the composites search could not be warmed")
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, name="composites-warm", daemon=True)
    thread.start()
    return thread
