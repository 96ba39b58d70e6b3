"""Connects settings to the engine runtime: which checkpoint and index file serve a gallery.

The engine takes paths as arguments; this module is the one place that knows where they
live. ``warm_runtime`` runs once at server start-up; ``serving_pair`` loads lazily (once)
in processes that did not warm, such as management commands and tests.

The serving checkpoint is the gallery's *active pointer* (a small JSON file written
atomically beside the indexes when a run is activated) when it names a checkpoint that
exists, else the committed default. Every process notices a changed pointer, or a replaced
index file, by file identity, and loads the new pair aside while searches keep using the
old one: a search is answered by one whole pair, never by a half-loaded or mismatched one.
"""

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from django.conf import settings

from retrieval.core.kinds import query_kinds
from retrieval.engine.devices import set_compute_threads
from retrieval.engine.errors import EngineError, NotReady
from retrieval.engine.fileio import atomic_write_json, file_digest
from retrieval.engine.runtime import Runtime, SearchPair, get_runtime

log = logging.getLogger(__name__)
_load_lock = threading.Lock()
T = TypeVar("T")


def engine() -> Runtime:
    return get_runtime(settings.RETRIEVAL["DEVICE"])


def default_checkpoint_path() -> Path:
    return Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / settings.RETRIEVAL["DEFAULT_CHECKPOINT"]


def index_path(gallery_slug: str, checkpoint_id: str) -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"]) / f"{gallery_slug}-{checkpoint_id}.npz"


def pointer_path(gallery_slug: str) -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"]) / "active" / f"{gallery_slug}.json"


def active_pointer(gallery_slug: str) -> dict | None:
    """The gallery's activated checkpoint ({checkpoint, checkpoint_id, index, run, ...}), or
    None when the committed default serves (no pointer, an unreadable one, or its checkpoint gone)."""
    try:
        pointer = json.loads(pointer_path(gallery_slug).read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(pointer, dict) or not Path(str(pointer.get("checkpoint", ""))).is_file():
        return None
    return pointer


def serving_checkpoint_path(gallery_slug: str) -> Path:
    pointer = active_pointer(gallery_slug)
    return Path(pointer["checkpoint"]) if pointer else default_checkpoint_path()


def serving_pair(gallery_slug: str) -> SearchPair:
    """The pair that answers searches in ``gallery_slug``: loaded on first use, and again when
    the active pointer changes or another process replaces the index file. While one thread
    loads the new pair, the others keep answering with the old one."""
    runtime = engine()
    if runtime.has(gallery_slug):
        current = runtime.pair(gallery_slug)
        if _is_current(gallery_slug, current) or not _load_lock.acquire(blocking=False):
            return current
        try:
            if runtime.pair(gallery_slug) is current:
                _reload(runtime, gallery_slug, current)
        finally:
            _load_lock.release()
        return runtime.pair(gallery_slug)
    with _load_lock:
        if not runtime.has(gallery_slug):
            install_pair(gallery_slug, _load_serving_pair(runtime, gallery_slug))
    return runtime.pair(gallery_slug)


def install_pair(gallery_slug: str, pair: SearchPair) -> None:
    """Serve ``pair`` from now on, remembering the files it stands for."""
    _file_identity[gallery_slug] = _files_identity(gallery_slug, pair)
    engine().install(gallery_slug, pair)


def activate_checkpoint(gallery_slug: str, *, checkpoint: Path, index: Path, run_id: int | None = None) -> SearchPair:
    """Serve ``checkpoint`` with its ``index`` in every process: load the pair aside, then write
    the pointer and swap the pair in under the load lock (searches meanwhile use the old pair)."""
    pair = engine().load_pair(checkpoint, index)
    with _load_lock:
        atomic_write_json(pointer_path(gallery_slug), {
            "checkpoint": str(Path(checkpoint).resolve()), "checkpoint_id": pair.checkpoint_id,
            "index": str(Path(index).resolve()), "run": run_id,
            "activated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        install_pair(gallery_slug, pair)
    return pair


def reset_to_default(gallery_slug: str) -> SearchPair:
    """Serve the committed default checkpoint again (its index must exist)."""
    pair = _load_default_pair(engine(), gallery_slug)
    with _load_lock:
        pointer_path(gallery_slug).unlink(missing_ok=True)
        install_pair(gallery_slug, pair)
    return pair


_file_identity: dict[str, tuple] = {}


def _identity(path: str | Path) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _files_identity(gallery_slug: str, pair: SearchPair) -> tuple:
    return _identity(pointer_path(gallery_slug)), _identity(pair.index_path)


def _is_current(gallery_slug: str, pair: SearchPair) -> bool:
    return _file_identity.get(gallery_slug) == _files_identity(gallery_slug, pair)


def _reload(runtime: Runtime, gallery_slug: str, current: SearchPair) -> None:
    try:
        pair = _load_serving_pair(runtime, gallery_slug)
    except (EngineError, OSError, ValueError, KeyError) as error:
        # Keep serving what works; try again only when the files change again.
        log.warning("still serving checkpoint %s for %s: the new pair did not load: %s",
                    current.checkpoint_id, gallery_slug, error)
        _file_identity[gallery_slug] = _files_identity(gallery_slug, current)
        return
    install_pair(gallery_slug, pair)
    log.info("now serving checkpoint %s for %s", pair.checkpoint_id, gallery_slug)


def _load_serving_pair(runtime: Runtime, gallery_slug: str) -> SearchPair:
    pointer = active_pointer(gallery_slug)
    if pointer is None:
        return _load_default_pair(runtime, gallery_slug)
    index = Path(settings.RETRIEVAL["INDEX_DIR"]) / pointer["index"]  # a relative path: in the index folder
    if not index.is_file():
        raise NotReady(f"The index of the active checkpoint for {gallery_slug!r} is missing: activate it again.")
    return runtime.load_pair(pointer["checkpoint"], index)


def _load_default_pair(runtime: Runtime, gallery_slug: str) -> SearchPair:
    checkpoint = default_checkpoint_path()
    if not checkpoint.exists():
        raise NotReady(f"No descriptor checkpoint at {checkpoint}: run `python manage.py train descriptor`.")
    path = index_path(gallery_slug, file_digest(checkpoint))
    if not path.exists():
        raise NotReady(f"The search index for {gallery_slug!r} is not built yet: run `python manage.py build_index`.")
    return runtime.load_pair(checkpoint, path)


def forget_pairs() -> None:
    """Drop every loaded pair and remembered identity (tests that switch checkpoints)."""
    from retrieval.engine.runtime import reset_runtime

    with _load_lock:
        _file_identity.clear()
        _loaded.clear()
        reset_runtime()


_loaded: dict[str, tuple[tuple, object]] = {}


def load_while_unchanged(key: str, paths: list[Path], load: Callable[[], T]) -> T:
    """``load()``'s result, loaded once per process and again only when one of ``paths``
    changes on disk (a finished training run replaced a checkpoint). Models beside the
    serving pair (sketch models, enhancers, the robust descriptor) are held this way."""
    identity = tuple(_identity(path) for path in paths)
    cached = _loaded.get(key)
    if cached is None or cached[0] != identity:
        with _load_lock:
            cached = _loaded.get(key)
            if cached is None or cached[0] != identity:
                cached = _loaded[key] = (identity, load())
    return cached[1]


# The server process warms in a background thread (portal.asgi) while it already answers:
# "cold" (nothing asked for a warm-up: commands, tests), "warming", then "ready".
_warm_state = {"state": "cold"}


def begin_warming() -> None:
    _warm_state["state"] = "warming"


def warming() -> bool:
    """True while the server process is loading its models: queries are answered with a
    "warming up" 503 meanwhile (``portal.middleware.WarmingUpMiddleware``)."""
    return _warm_state["state"] == "warming"


def warm_runtime() -> None:
    """Configure the server process and load the default gallery's pair now, so that no
    request pays for it."""
    try:
        _warm()
    finally:
        _warm_state["state"] = "ready"


def _warm() -> None:
    set_compute_threads(settings.RETRIEVAL["SERVER_THREADS"])
    if settings.RETRIEVAL["GRAPH_SEARCH"]:
        engine().enable_graph_search()
    slug = settings.RETRIEVAL["DEFAULT_GALLERY"]
    started = time.perf_counter()
    try:
        pair = serving_pair(slug)
    except NotReady as error:
        log.warning("engine not warmed: %s", error)
        return
    # One throwaway query: torch's first inference pays one-off set-up costs.
    blank = np.zeros((1, pair.descriptor.input_size, pair.descriptor.input_size), np.uint8)
    pair.index.search(pair.descriptor.describe_arrays(blank), 1, "cosine")
    for kind in query_kinds():
        if kind.warm is not None:
            began = time.perf_counter()
            kind.warm(pair)
            log.info("warmed the %s query kind in %.1f s", kind.name, time.perf_counter() - began)
    log.info("engine ready in %.1f s: %s (%d items, checkpoint %s) on %s, faiss gpu=%s", time.perf_counter() - started,
             slug, len(pair.index), pair.checkpoint_id, engine().device, engine().faiss_gpu)
