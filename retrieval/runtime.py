"""Connects settings to the engine runtime: which checkpoint and index file serve a gallery.

The engine takes paths as arguments; this module is the one place that knows where they
live. ``warm_runtime`` runs once at server start-up; ``serving_pair`` loads lazily (once)
in processes that did not warm, such as management commands and tests.
"""

import logging
import os
import threading
from pathlib import Path

from django.conf import settings

from .engine.errors import NotReady
from .engine.runtime import Runtime, SearchPair, get_runtime

log = logging.getLogger(__name__)
_load_lock = threading.Lock()


def engine() -> Runtime:
    return get_runtime(settings.RETRIEVAL["DEVICE"])


def default_checkpoint_path() -> Path:
    return Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / settings.RETRIEVAL["DEFAULT_CHECKPOINT"]


def index_path(gallery_slug: str, checkpoint_id: str) -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"]) / f"{gallery_slug}-{checkpoint_id}.npz"


def serving_pair(gallery_slug: str) -> SearchPair:
    """The pair that answers searches in ``gallery_slug``, loading it on first use and again
    when another process has replaced its index file (a rebuild after the gallery changed)."""
    runtime = engine()
    if runtime.has(gallery_slug) and _is_current(gallery_slug, runtime.pair(gallery_slug)):
        return runtime.pair(gallery_slug)
    with _load_lock:
        if not (runtime.has(gallery_slug) and _is_current(gallery_slug, runtime.pair(gallery_slug))):
            install_pair(gallery_slug, _load_default_pair(runtime, gallery_slug))
    return runtime.pair(gallery_slug)


def install_pair(gallery_slug: str, pair: SearchPair) -> None:
    """Serve ``pair`` from now on, remembering which index file it came from."""
    _file_identity[gallery_slug] = _identity(pair.index_path)
    engine().install(gallery_slug, pair)


_file_identity: dict[str, tuple | None] = {}


def _identity(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _is_current(gallery_slug: str, pair: SearchPair) -> bool:
    return _file_identity.get(gallery_slug) == _identity(pair.index_path)


def _load_default_pair(runtime: Runtime, gallery_slug: str) -> SearchPair:
    from .engine.fileio import file_digest

    checkpoint = default_checkpoint_path()
    if not checkpoint.exists():
        raise NotReady(f"No descriptor checkpoint at {checkpoint}: run `python manage.py train descriptor`.")
    path = index_path(gallery_slug, file_digest(checkpoint))
    if not path.exists():
        raise NotReady(f"The search index for {gallery_slug!r} is not built yet: run `python manage.py build_index`.")
    return runtime.load_pair(checkpoint, path)


def warm_runtime() -> None:
    """Load the default gallery's pair now, so that no request pays for it."""
    slug = settings.RETRIEVAL["DEFAULT_GALLERY"]
    try:
        pair = serving_pair(slug)
    except NotReady as error:
        log.warning("engine not warmed: %s", error)
        return
    log.info("engine ready: %s (%d items, checkpoint %s) on %s, faiss gpu=%s", slug, len(pair.index),
             pair.checkpoint_id, engine().device, engine().faiss_gpu)
