"""The lab's embedding maps: each (gallery, backbone, descriptor) index mapped to 2-d once
(``engine.lab.embedding``), stored atomically beside the index and kept in memory; rebuilt only
when the index it was made from changes (its provenance and size, recorded in the map)."""

import hashlib
import json
import threading
from pathlib import Path

from retrieval.engine.lab.embedding import Embedding, pca_embedding
from retrieval.engine.lab.index import LabIndex
from retrieval.models import Gallery

from .services import lab_index_path

_MAPS: dict[Path, Embedding] = {}
_LOCK = threading.Lock()  # one fit per map at a time: a second request waits for the first's


def index_fingerprint(index: LabIndex) -> str:
    """What identifies an index's contents: its provenance (gallery rows, weights, layer
    weights) and its size."""
    keys = {k: v for k, v in index.meta.items() if k not in ("seconds", "ms_per_image")}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:16]


def embedding_path(slug: str, backbone: str, descriptor: str) -> Path:
    index = lab_index_path(slug, backbone, descriptor)
    return index.with_name(index.stem + ".map.npz")


def lab_embedding(*, gallery: Gallery, backbone: str, descriptor: str, index: LabIndex) -> Embedding:
    """The map of ``index`` (the gallery's ``descriptor`` index): from memory, from its file, or
    fitted now and stored."""
    path = embedding_path(gallery.slug, backbone, descriptor)
    fingerprint = index_fingerprint(index)
    cached = _MAPS.get(path)
    if cached is not None and cached.meta.get("index") == fingerprint:
        return cached
    with _LOCK:
        cached = _MAPS.get(path)
        if cached is not None and cached.meta.get("index") == fingerprint:
            return cached
        embedding = _stored(path, fingerprint)
        if embedding is None:
            embedding = pca_embedding(index.vectors, index.ids, index.labels,
                                      {"index": fingerprint, "gallery": gallery.slug, "backbone": backbone,
                                       "descriptor": descriptor})
            embedding.save(path)
        _MAPS[path] = embedding
        return embedding


def _stored(path: Path, fingerprint: str) -> Embedding | None:
    if not path.exists():
        return None
    try:
        embedding = Embedding.load(path)
    except (OSError, ValueError, KeyError):  # a damaged file is fitted again and replaced
        return None
    return embedding if embedding.meta.get("index") == fingerprint else None


def embedding_body(embedding: Embedding, gallery: Gallery) -> dict:
    """The map as the page and the API send it: columns of numbers, and the class names."""
    labels = sorted({int(label) for label in embedding.labels if label >= 0})
    return {
        "gallery": gallery.slug, "backbone": embedding.meta.get("backbone"), "descriptor": embedding.meta.get("descriptor"),
        "method": embedding.meta["method"], "explained_variance": embedding.meta["explained_variance"],
        "gallery_items": embedding.meta["gallery_items"], "points": len(embedding.ids),
        "classes": {str(label): gallery.label_name(label) for label in labels},
        "x": [round(float(v), 5) for v in embedding.points[:, 0]],
        "y": [round(float(v), 5) for v in embedding.points[:, 1]],
        "id": [int(v) for v in embedding.ids], "label": [int(v) for v in embedding.labels],
    }
