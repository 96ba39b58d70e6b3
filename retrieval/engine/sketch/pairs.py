"""Sketch-image training pairs: each gallery image with its edge map, cached on disk.

One file per (edge method, split), ``<method>-<split>.npz``: the images, their edge maps
(uint8, 255 = ink), labels and source indices, written atomically. Edge extraction is
deterministic; the stroke augmentation that makes edge maps look drawn is applied when the
pairs are used, from a seeded generator (``sketch_queries`` for a fixed evaluation set).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..fileio import atomic_path
from .edges import HEDEdges, canny_edges
from .strokes import augment_strokes

EDGE_METHODS = ("hed", "canny")
QUERY_SEED = 2018  # the fixed seed of the evaluation's sketch queries (the paper's year)


@dataclass(frozen=True)
class SketchPairs:
    images: np.ndarray  # uint8 [N, S, S], the gallery's style
    edges: np.ndarray  # uint8 [N, S, S], 255 = ink
    labels: np.ndarray  # int64 [N]
    source_indices: np.ndarray  # int64 [N]: positions in the split
    meta: dict

    def __len__(self) -> int:
        return len(self.labels)


def pairs_path(folder: Path | str, method: str, split: str) -> Path:
    if method not in EDGE_METHODS:
        raise ValueError(f"unknown edge method {method!r} (choose from {', '.join(EDGE_METHODS)})")
    return Path(folder) / f"{method}-{split}.npz"


def extract_edges(images: np.ndarray, method: str, *, hed: HEDEdges | None = None, batch_size: int = 256,
                  progress=None) -> np.ndarray:
    """Edge maps (uint8, 255 = ink) of uint8 images [N, S, S], in batches."""
    if method == "hed":
        hed = hed or HEDEdges()
        extract = hed
    elif method == "canny":
        extract = canny_edges
    else:
        raise ValueError(f"unknown edge method {method!r} (choose from {', '.join(EDGE_METHODS)})")
    out = np.zeros(images.shape, np.uint8)
    for start in range(0, len(images), batch_size):
        out[start:start + batch_size] = np.round(extract(images[start:start + batch_size]) * 255)
        if progress:
            progress(min(start + batch_size, len(images)), len(images))
    return out


def save_pairs(path: Path | str, pairs: SketchPairs) -> None:
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, images=pairs.images, edges=pairs.edges, labels=pairs.labels,
                            source_indices=pairs.source_indices, meta=np.array(json.dumps(pairs.meta)))


def load_pairs(folder: Path | str, method: str, split: str) -> SketchPairs:
    path = pairs_path(folder, method, split)
    if not path.is_file():
        raise FileNotFoundError(f"No {method} sketch pairs for the {split} split at {path}: "
                                "run `python manage.py make_sketch_pairs` first.")
    with np.load(path) as data:
        return SketchPairs(images=data["images"], edges=data["edges"], labels=data["labels"].astype(np.int64),
                           source_indices=data["source_indices"].astype(np.int64), meta=json.loads(str(data["meta"])))


def sketch_queries(edges: np.ndarray, seed: int = QUERY_SEED, batch_size: int = 1024) -> np.ndarray:
    """Edge maps with the stroke augmentation applied at a fixed seed: sketch-like queries
    that are the same on every run (uint8, 255 = ink)."""
    generator = torch.Generator().manual_seed(seed)
    out = np.zeros(edges.shape, np.uint8)
    for start in range(0, len(edges), batch_size):
        x = torch.from_numpy(edges[start:start + batch_size]).float()[:, None] / 255.0
        out[start:start + batch_size] = (augment_strokes(x, generator)[:, 0] * 255).round().byte().numpy()
    return out


def load_training_pairs(folder: Path | str, edges: str, split: str = "train", subset: int | None = None,
                        seed: int = 0) -> SketchPairs:
    """The pairs of one edge method, or of all of them together for ``edges="both"`` (each image
    then appears once per method), optionally a random subset of ``subset`` pairs."""
    methods = EDGE_METHODS if edges == "both" else (edges,)
    parts = [load_pairs(folder, method, split) for method in methods]
    pairs = SketchPairs(images=np.concatenate([p.images for p in parts]), edges=np.concatenate([p.edges for p in parts]),
                        labels=np.concatenate([p.labels for p in parts]),
                        source_indices=np.concatenate([p.source_indices for p in parts]),
                        meta={"methods": list(methods), "split": split})
    if subset is not None and subset < len(pairs):
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), size=subset, replace=False))
        pairs = SketchPairs(images=pairs.images[keep], edges=pairs.edges[keep], labels=pairs.labels[keep],
                            source_indices=pairs.source_indices[keep], meta={**pairs.meta, "subset": subset})
    return pairs
