"""Galleries: importing Fashion-MNIST into the database and media folder, and building their indexes."""

import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from retrieval.core.results import open_gallery_image, stored_counts
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
IMPORT_THREADS = 4


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
    names = [f"galleries/{gallery.slug}/{split}/{i:05d}.png" for i in range(len(images))]
    folder = Path(default_storage.path(names[0])).parent if names else None

    def write(i: int) -> None:
        atomic_write_bytes(folder / Path(names[i]).name, encode_png(Image.fromarray(images[i], "L")))

    # Threads during set-up only: each file is a few system calls, which release the GIL.
    with ThreadPoolExecutor(max_workers=IMPORT_THREADS) as pool:
        for start in range(0, len(images), 1000):
            list(pool.map(write, range(start, min(start + 1000, len(images)))))
            if progress:
                progress(min(start + 1000, len(images)), len(images))
    rows = [GalleryImage(gallery=gallery, file=name, width=pixels.shape[1], height=pixels.shape[0],
                         label=int(label), split=split, source_index=i, histogram=stored_counts(pixels))
            for i, (name, pixels, label) in enumerate(zip(names, images, labels, strict=True))]
    with transaction.atomic():
        GalleryImage.objects.bulk_create(rows, batch_size=2000)
    if progress:
        progress(len(images), len(images))


def index_rebuild(*, gallery: Gallery, checkpoint: Path | None = None, force: bool = False,
                  progress: Progress | None = None, batch_size: int = 1024) -> IndexVersion:
    """Describe every gallery image with ``checkpoint`` (by default the one serving the
    gallery) and save the index beside it.

    Skips the work when an index for this checkpoint and gallery size already exists. The
    Fashion-MNIST gallery is described from its idx arrays (the pixels its PNG files were
    written from, checked on a sample) rather than by decoding 60,000 files.
    """
    checkpoint = Path(checkpoint or serving_checkpoint_path(gallery.slug))
    descriptor = load_descriptor(checkpoint, engine().device)
    rows = list(gallery.images.filter(split=GalleryImage.Split.TRAIN).order_by("id")
                .values_list("id", "file", "label", "source_index"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    ids_digest = hashlib.sha256(ids.tobytes()).hexdigest()[:16]  # same rows, same index
    path = index_path(gallery.slug, descriptor.checkpoint_id)
    stored = read_index_meta(path) if path.exists() else {}
    if not force and stored.get("ids_digest") == ids_digest and stored.get("features") == descriptor.features:
        version = IndexVersion.objects.filter(gallery=gallery, path__in=[IndexVersion.stored_path(path), str(path)]).first()
        if version:
            return version
    started = time.perf_counter()
    pixels = source_pixels(gallery, rows)
    vectors = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        images = ([Image.fromarray(pixels[start + i], "L") for i in range(len(batch))] if pixels is not None
                  else [open_gallery_image(name) for _, name, _, _ in batch])
        vectors.append(descriptor.describe_images(images))
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
    log.info("indexed %d images of %s in %.1f s (%.0f images/s, from %s)", len(rows), gallery.slug, seconds,
             len(rows) / max(seconds, 1e-9), "the idx arrays" if pixels is not None else "the image files")
    return IndexVersion.objects.create(gallery=gallery, checkpoint_id=descriptor.checkpoint_id, checkpoint_name=checkpoint.name,
                                       path=IndexVersion.stored_path(path), count=len(rows), dim=index.dim,
                                       seconds=round(seconds, 2))


SAMPLE_CHECKS = 16


def source_pixels(gallery: Gallery, rows: list[tuple]) -> np.ndarray | None:
    """The gallery images' pixels [N, 28, 28] in ``rows`` order, read from the Fashion-MNIST idx
    file they were imported from; None (decode the files) for any other gallery, when the idx
    files are not there, or when a sample of the files does not match them exactly."""
    folder = Path(settings.RETRIEVAL["FASHION_MNIST_DIR"])
    if gallery.slug != FASHION_MNIST_SLUG or not rows or not folder.is_dir():
        return None
    try:
        images, _ = fashion_mnist.load_split(folder, GalleryImage.Split.TRAIN)
    except (OSError, ValueError):
        return None
    order = np.array([r[3] for r in rows], dtype=np.int64)
    if order.max() >= len(images):
        return None
    for i in np.linspace(0, len(rows) - 1, min(SAMPLE_CHECKS, len(rows))).astype(int):
        try:
            same = np.array_equal(np.asarray(open_gallery_image(rows[i][1]).convert("L")), images[order[i]])
        except OSError:
            same = False
        if not same:
            log.warning("the gallery files differ from the idx arrays: describing the files instead")
            return None
    return images[order]


# --- indexes built in the background, after the server is up ----------------------------

_background: dict[str, dict] = {}


def background_index_status() -> dict[str, dict]:
    """Indexes being built after start-up, by checkpoint file name: {"state": "building" |
    "done" | "failed", "done": n, "total": n, "error"?: sentence}. What a page shows while a
    descriptor's index is not ready yet."""
    return {name: dict(status) for name, status in _background.items()}


def build_background_indexes(*, checkpoints: list[Path], gallery_slug: str | None = None) -> None:
    """Index ``gallery_slug`` with each checkpoint that exists and has no current index yet
    (the server calls this after it has warmed up), logging the progress every 10%."""
    gallery = Gallery.default(gallery_slug)
    if gallery is None:
        return
    for checkpoint in checkpoints:
        if not Path(checkpoint).is_file():
            continue
        status = _background.setdefault(Path(checkpoint).name, {"state": "building", "done": 0, "total": 0})
        try:
            version = index_rebuild(gallery=gallery, checkpoint=Path(checkpoint), progress=_logging_progress(checkpoint, status))
        except Exception as error:  # noqa: BLE001 - a background job reports, it never takes the server down
            status.update(state="failed", error=str(error))
            log.exception("background index of %s failed", Path(checkpoint).name)
            continue
        status.update(state="done", done=version.count, total=version.count)
        log.info("background index of %s ready (%d items)", Path(checkpoint).name, version.count)


def _logging_progress(checkpoint: Path, status: dict) -> Progress:
    def progress(done: int, total: int) -> None:
        if not status["total"] or done * 10 // max(total, 1) > status["done"] * 10 // max(total, 1):
            log.info("background index of %s: %d / %d images", Path(checkpoint).name, done, total)
        status.update(done=done, total=total)
    return progress
