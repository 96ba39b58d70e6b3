"""Galleries: importing Fashion-MNIST into the database and media folder, and building their indexes."""

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from retrieval.core.results import open_gallery_image
from retrieval.core.runtime import engine, index_path, install_pair, serving_checkpoint_path
from retrieval.engine.data import fashion_mnist
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.fileio import atomic_write_bytes
from retrieval.engine.images import encode_png
from retrieval.engine.index import VectorIndex, read_index_meta
from retrieval.engine.runtime import SearchPair
from retrieval.models import Gallery, GalleryImage, IndexVersion

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


FASHION_MNIST_SLUG = "fashion-mnist"


def gallery_import_fashion_mnist(*, folder: Path, slug: str = FASHION_MNIST_SLUG, limit: int | None = None,
                                 progress: Progress | None = None) -> Gallery:
    """Import the training split (the gallery) and test split (the queries) as files + rows.

    Idempotent: a split already complete is skipped; a partial one is redone.
    """
    gallery, _ = Gallery.objects.get_or_create(slug=slug, defaults={
        "name": "Fashion-MNIST", "class_names": list(fashion_mnist.CLASS_NAMES),
        "description": "Zalando's Fashion-MNIST: 60,000 gallery and 10,000 query images of 10 clothing classes, 28x28 greyscale.",
    })
    for split in (GalleryImage.Split.TRAIN, GalleryImage.Split.TEST):
        images, labels = fashion_mnist.load_split(folder, split, limit=limit)
        _import_split(gallery, split, images, labels, progress)
    return gallery


def _import_split(gallery: Gallery, split: str, images: np.ndarray, labels: np.ndarray, progress: Progress | None) -> None:
    existing = gallery.images.filter(split=split)
    if existing.count() == len(images):
        return
    existing.delete()
    rows = []
    for i, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        name = f"galleries/{gallery.slug}/{split}/{i:05d}.png"
        atomic_write_bytes(Path(default_storage.path(name)), encode_png(Image.fromarray(pixels, "L")))
        rows.append(GalleryImage(gallery=gallery, file=name, width=pixels.shape[1], height=pixels.shape[0],
                                 label=int(label), split=split, source_index=i))
        if progress and (i + 1) % 1000 == 0:
            progress(i + 1, len(images))
    with transaction.atomic():
        GalleryImage.objects.bulk_create(rows, batch_size=2000)
    if progress:
        progress(len(images), len(images))


def index_rebuild(*, gallery: Gallery, checkpoint: Path | None = None, force: bool = False,
                  progress: Progress | None = None, batch_size: int = 1024) -> IndexVersion:
    """Describe every gallery image with ``checkpoint`` (by default the one serving the
    gallery) and save the index beside it.

    Skips the work when an index for this checkpoint and gallery size already exists.
    """
    checkpoint = Path(checkpoint or serving_checkpoint_path(gallery.slug))
    descriptor = load_descriptor(checkpoint, engine().device)
    rows = list(gallery.images.filter(split=GalleryImage.Split.TRAIN).order_by("id").values_list("id", "file", "label"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    ids_digest = hashlib.sha256(ids.tobytes()).hexdigest()[:16]  # same rows, same index
    path = index_path(gallery.slug, descriptor.checkpoint_id)
    stored = read_index_meta(path) if path.exists() else {}
    if not force and stored.get("ids_digest") == ids_digest and stored.get("features") == descriptor.features:
        version = IndexVersion.objects.filter(gallery=gallery, path=str(path)).first()
        if version:
            return version
    started = time.perf_counter()
    vectors = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        vectors.append(descriptor.describe_images([open_gallery_image(name) for _, name, _ in batch]))
        if progress:
            progress(start + len(batch), len(rows))
    labels = np.array([-1 if r[2] is None else r[2] for r in rows], dtype=np.int64)
    vectors = np.concatenate(vectors) if vectors else np.zeros((0, descriptor.dim), np.float32)
    index = VectorIndex.build(vectors, ids, labels, {
        "checkpoint_id": descriptor.checkpoint_id, "checkpoint_name": checkpoint.name,
        "gallery": gallery.slug, "arch": descriptor.arch, "ids_digest": ids_digest, "features": descriptor.features,
    })
    index.save(path)
    runtime = engine()
    if runtime.has(gallery.slug) and runtime.pair(gallery.slug).checkpoint_id == descriptor.checkpoint_id:
        # This process serves that checkpoint: swap the fresh index in (the old one may list deleted rows).
        install_pair(gallery.slug, SearchPair(descriptor, index, str(checkpoint), str(path)))
    seconds = time.perf_counter() - started
    log.info("indexed %d images of %s in %.1f s (%.0f images/s)",
             len(rows), gallery.slug, seconds, len(rows) / max(seconds, 1e-9))
    return IndexVersion.objects.create(gallery=gallery, checkpoint_id=descriptor.checkpoint_id, checkpoint_name=checkpoint.name,
                                       path=str(path), count=len(rows), dim=index.dim, seconds=round(seconds, 2))
