"""The photo descriptor with its own index of a gallery (loaded like the degraded page's
robust pair), the choice between it and the standard descriptor, and the "unsure" signal.

For the web layer: ``descriptor_pair(slug, mode)`` gives the pair to search with (mode
"standard" or "photo"; ``default_descriptor_mode(slug)`` says which serves by default);
``pair.descriptor.view(image)`` is the ``PhotoView`` (``query_mask()`` and
``engine.photo.outline.outline_overlay`` draw its outline); ``query_unsure(...)`` gives the
flag, score and reason for a searched query.
"""

import json
import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from retrieval.core.runtime import engine, index_path, load_while_unchanged, serving_pair
from retrieval.engine.data import fashion_mnist
from retrieval.engine.errors import EngineError, NotReady
from retrieval.engine.fileio import atomic_write_json, file_digest
from retrieval.engine.photo.normalise import PhotoView, is_gallery_style
from retrieval.engine.photo.unsure import Calibration, Unsure, calibrate, judge
from retrieval.engine.runtime import SearchPair
from retrieval.galleries.services import index_rebuild
from retrieval.models import Gallery

DESCRIPTOR_MODES = {"standard": "Standard", "photo": "Photo (trained on shop-like photos)"}
log = logging.getLogger(__name__)
NOT_TRAINED = "The photo descriptor is not trained yet: run `python manage.py train photo_descriptor`."


def photo_checkpoint_path() -> Path:
    return Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / settings.RETRIEVAL.get("PHOTO_CHECKPOINT", "descriptor-photo.pt")


def photo_pair(gallery_slug: str) -> SearchPair:
    """The photo descriptor with its own index of the gallery, loaded once (and again when the
    checkpoint changes); NotReady (503) says which command makes what is missing."""
    checkpoint = photo_checkpoint_path()
    if not checkpoint.is_file():
        raise NotReady(NOT_TRAINED)

    def load() -> SearchPair:
        path = index_path(gallery_slug, file_digest(checkpoint))
        if not path.is_file():
            raise NotReady(f"The photo descriptor's index of {gallery_slug!r} is not built yet: run "
                           f"`python manage.py build_index --checkpoint {checkpoint}`.")
        return engine().load_pair(checkpoint, path)

    return load_while_unchanged(f"{gallery_slug}:photo", [checkpoint], load)


def photo_ready(gallery_slug: str) -> bool:
    try:
        photo_pair(gallery_slug)
    except EngineError:
        return False
    return True


def default_descriptor_mode(gallery_slug: str) -> str:
    """"photo" where its pair is ready and ``RETRIEVAL["PHOTO_DEFAULT"]`` is on (the default),
    else "standard".

    The rule for serving it by default: better on photos, and no more than 0.005 P@5 lost on
    the clean Fashion-MNIST test queries. Photo mode serves those (already in the gallery's
    style) by the standard descriptor (``serving_mode``), so as served it loses nothing there;
    `evaluate photo --json` reports that (``clean``) and the photo descriptor's own figure
    (``results.photo.clean_photo_descriptor``) beside it. ``PORTAL_PHOTO_DEFAULT=0`` serves standard."""
    wanted = settings.RETRIEVAL.get("PHOTO_DEFAULT", True)
    return "photo" if wanted and photo_ready(gallery_slug) else "standard"


def descriptor_pair(gallery_slug: str, mode: str) -> SearchPair:
    return photo_pair(gallery_slug) if mode == "photo" else serving_pair(gallery_slug)


def serving_mode(mode: str, image: Image.Image, size: int) -> str:
    """The descriptor that serves ``image`` when ``mode`` is asked for. A photo-mode query that
    already looks like a gallery image (grey, on black, at the network's ``size``: the
    normalisation leaves it as it is) needs none of the photo descriptor's robustness and
    loses by it (0.0055 P@5 on the clean test queries), so the standard descriptor serves it."""
    return "standard" if mode == "photo" and is_gallery_style(image, size) else mode


def photo_index_rebuild(*, gallery: Gallery, progress=None):
    """Index the gallery with the photo descriptor (skipped when its index is up to date)."""
    checkpoint = photo_checkpoint_path()
    if not checkpoint.is_file():
        raise NotReady(NOT_TRAINED)
    return index_rebuild(gallery=gallery, checkpoint=checkpoint, progress=progress)


# --- unsure ----------------------------------------------------------------------------------

def unsure_calibration(pair: SearchPair, metric: str) -> Calibration:
    """The pair's calibration for ``metric``: measured once on the clean Fashion-MNIST test
    queries and kept beside its index (``<index>.unsure.json``)."""
    path = Path(pair.index_path).with_suffix(".unsure.json")
    stored = stored_calibrations(path)
    if metric not in stored:
        stored = {**stored, metric: measure_calibration(pair, metric).to_dict()}
        atomic_write_json(path, stored)
    entry = stored[metric]
    return Calibration(metric=entry["metric"], threshold=entry["threshold"], quantile=entry["quantile"],
                       queries=entry["queries"])


_read: dict[Path, tuple[int, dict]] = {}  # path -> (its mtime_ns, its content): one stat per query, no parse


def stored_calibrations(path: Path) -> dict:
    """The calibrations stored in ``path`` ({} when there is none), parsed again only when the
    file changes (every query reads it)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    cached = _read.get(path)
    if cached is None or cached[0] != mtime:
        cached = _read[path] = (mtime, json.loads(path.read_text()))
    return cached[1]


_measuring: set[str] = set()
_measuring_lock = threading.Lock()


def calibration_if_ready(pair: SearchPair, metric: str) -> Calibration | None:
    """The stored calibration, or None while it is measured in a background thread (started
    here): a search never waits the seconds that 10,000 test queries take."""
    path = Path(pair.index_path).with_suffix(".unsure.json")
    if metric in stored_calibrations(path):
        return unsure_calibration(pair, metric)
    key = f"{path}:{metric}"
    with _measuring_lock:
        if key in _measuring:
            return None
        _measuring.add(key)

    def measure():
        try:
            unsure_calibration(pair, metric)
        except OSError as error:  # the index's folder went away meanwhile (a rebuild, a test session ending)
            log.debug("unsure calibration of %s not stored: %s", pair.index_path, error)
        except Exception:  # noqa: BLE001 - a background thread: log, and let a later query try again
            log.exception("measuring the unsure calibration of %s failed", pair.index_path)
        finally:
            with _measuring_lock:
                _measuring.discard(key)

    # Not a daemon: a process exiting mid-measurement waits for it (torch aborts under a killed thread).
    threading.Thread(target=measure, name="unsure-calibration", daemon=False).start()
    return None


def measure_calibration(pair: SearchPair, metric: str, limit: int | None = None) -> Calibration:
    """Nearest distances of clean test queries (as a search makes them) against the pair's index."""
    images, _ = fashion_mnist.load_split(settings.RETRIEVAL["FASHION_MNIST_DIR"], "test", limit=limit)
    vectors = pair.descriptor.describe_arrays(images)  # test images are gallery style: the view keeps them
    nearest = pair.index.search(vectors, 1, metric).distances[:, 0]
    return calibrate(nearest, metric)


def query_unsure(*, pair: SearchPair, view: PhotoView, nearest_distance: float, metric: str,
                 calibration: Calibration | None = None) -> Unsure:
    """Whether to flag a searched query: ``view`` from ``pair.descriptor.view``, ``nearest_distance``
    its first hit's distance (``hits.distances[0]``); ``calibration`` measured now when not given."""
    return judge(float(np.asarray(nearest_distance)), calibration or unsure_calibration(pair, metric),
                 found=getattr(view, "found", True), confidence=getattr(view, "confidence", 1.0))
