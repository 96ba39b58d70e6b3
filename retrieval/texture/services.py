"""What the texture query needs, loaded once per process: the serving hashing checkpoint (and
the TSN inside it), and the `textures` gallery's binary indexes at every code length.

The indexes are saved next to the float indexes (``INDEX_DIR``), one file per code length,
named and stamped with the checkpoint's identity and the gallery's fingerprint. A process
loads them when they match; when they are missing it builds them (at `setup_demo`, in a
background thread the server starts at warm-up, or in the first query of a process that
never warmed); while a background build runs, queries are told to wait. A replaced
checkpoint or a re-imported gallery gives another identity or fingerprint: rebuilt, once.
"""

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Min
from PIL import Image

from retrieval.core.results import open_gallery_image
from retrieval.core.runtime import load_while_unchanged
from retrieval.core.setup_state import require_prepared
from retrieval.engine.errors import NotReady
from retrieval.engine.texture import serving
from retrieval.engine.texture.binary import BinaryIndex
from retrieval.engine.texture.codes import Hasher, load_hasher
from retrieval.engine.texture.regions import CROP
from retrieval.models import Gallery

log = logging.getLogger(__name__)
SLUG = "textures"
CHECKPOINT = "texture-hash-tsn_dsdh.pt"  # the paper's method; RETRIEVAL["TEXTURE_CHECKPOINT"] names another
TSN_CHECKPOINT = "texture-tsn.pt"  # for the preview when the hashing network has no TSN trunk
_build_lock = threading.Lock()
_building: dict[str, dict] = {}  # checkpoint id -> {"done": n, "total": n} while a background build runs


def checkpoint_path() -> Path:
    return Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / settings.RETRIEVAL.get("TEXTURE_CHECKPOINT", CHECKPOINT)


def index_folder() -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"])


def hasher() -> Hasher:
    path = checkpoint_path()
    if not path.is_file():
        raise NotReady(f"No texture hashing checkpoint at {path.name}: run `manage.py train texture_hash`.")
    return load_while_unchanged("texture-hasher", [path], lambda: load_hasher(path))


def generator():
    """The TSN that makes the preview: the hashing network's own frozen trunk, else the
    committed TSN checkpoint; None when neither exists."""
    net = getattr(hasher().net, "tsn", None)
    if net is not None:
        return net
    path = Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / TSN_CHECKPOINT
    if not path.is_file():
        return None
    from retrieval.engine.texture.tsn import load_generator

    return load_while_unchanged("texture-tsn", [path], lambda: load_generator(path)[0])


def texture_gallery() -> Gallery:
    return require_prepared(Gallery.default(SLUG), SLUG, "The texture gallery")


def fingerprint(gallery: Gallery) -> str:
    """Changes when the gallery's rows do (a re-import gives new ids): one aggregate query."""
    stats = gallery.images.aggregate(n=Count("id"), low=Min("id"), high=Max("id"))
    return f"{gallery.pk}:{stats['n']}:{stats['low']}:{stats['high']}"


@dataclass(frozen=True)
class TextureIndexes:
    gallery: Gallery
    checkpoint_id: str
    fingerprint: str
    by_bits: dict[int, BinaryIndex]
    positions: dict[int, int]  # gallery image id -> row in every index

    def index(self, bits: int) -> BinaryIndex:
        return self.by_bits[bits]


_current: dict[str, TextureIndexes] = {}


def texture_indexes() -> TextureIndexes:
    """The serving indexes, loaded or built once; NotReady while a background build runs."""
    gallery, model = texture_gallery(), hasher()
    stamp = fingerprint(gallery)
    if _fresh(model, stamp):
        return _current[SLUG]
    status = _building.get(model.checkpoint_id)
    if status is not None:
        raise NotReady(f"{building_message(status)}: try again in a few seconds.")
    with _build_lock:
        if not _fresh(model, stamp):
            _current[SLUG] = _load_or_build(gallery, model, stamp)
    return _current[SLUG]


def _fresh(model: Hasher, stamp: str) -> bool:
    """The loaded indexes are the checkpoint's and the gallery's as it is now."""
    current = _current.get(SLUG)
    return current is not None and current.checkpoint_id == model.checkpoint_id and current.fingerprint == stamp


def _load_or_build(gallery: Gallery, model: Hasher, stamp: str, progress=None, loaded=None) -> TextureIndexes:
    by_bits = loaded or serving.load_indexes(index_folder(), SLUG, model, stamp)
    if by_bits is None:
        by_bits = build(gallery, model, stamp, progress)
    else:  # an earlier checkpoint's files, left by a set-up from before saving pruned them
        serving.prune_other_checkpoints(index_folder(), SLUG, model.checkpoint_id)
    ids = next(iter(by_bits.values())).ids
    return TextureIndexes(gallery, model.checkpoint_id, stamp, by_bits, {int(i): r for r, i in enumerate(ids)})


def build(gallery: Gallery, model: Hasher, stamp: str, progress=None) -> dict[int, BinaryIndex]:
    """Code every gallery image (at the networks' side) and save one index per code length."""
    rows = list(gallery.images.order_by("id").values_list("id", "label", "file"))
    if not rows:
        raise NotReady("The texture gallery has no images to search.")
    crops = np.stack([_crop(name) for _, _, name in rows])
    labels = np.array([-1 if label is None else label for _, label, _ in rows], np.int64)
    indexes = serving.build_indexes(model, crops, [r[0] for r in rows], labels, {"gallery": stamp, "slug": SLUG},
                                    progress=progress)
    serving.save_indexes(indexes, index_folder(), SLUG)
    log.info("texture index built: %d textures at %s bits (checkpoint %s)", len(rows),
             ", ".join(map(str, indexes)), model.checkpoint_id)
    return indexes


def _crop(name: str) -> np.ndarray:
    image = open_gallery_image(name).convert("RGB")
    return np.asarray(image if image.size == (CROP, CROP) else image.resize((CROP, CROP), Image.Resampling.BOX), np.uint8)


def building() -> dict | None:
    """How far a background build has got ({"done", "total"}), or None when none runs."""
    return next(iter(_building.values()), None)


def building_message(status: dict) -> str:
    return f"The texture index is being built ({status['done']} of {status['total']} textures coded)"


def build_in_background() -> threading.Thread | None:
    """At server start-up: build the indexes in a thread of their own when they are missing
    (queries meanwhile are told how far it got); None when there is nothing to build."""
    try:
        gallery, model = texture_gallery(), hasher()
    except NotReady as error:
        log.warning("texture search not ready: %s", error)
        return None
    stamp = fingerprint(gallery)
    loaded = serving.load_indexes(index_folder(), SLUG, model, stamp)
    if loaded is not None:  # up to date: serve what was just read rather than read it again
        with _build_lock:
            _current[SLUG] = _load_or_build(gallery, model, stamp, loaded=loaded)
        return None
    status = _building.setdefault(model.checkpoint_id, {"done": 0, "total": gallery.images.count()})

    def run():
        from django.db import connection

        try:
            with _build_lock:
                _current[SLUG] = _load_or_build(gallery, model, stamp, lambda done, total: status.update(done=done))
        except Exception:  # noqa: BLE001 - a background job logs, it never takes the server down
            log.exception("the texture index could not be built")
        finally:
            _building.pop(model.checkpoint_id, None)
            connection.close()

    thread = threading.Thread(target=run, name="texture-index", daemon=True)
    thread.start()
    return thread


def texture_setup(*, stdout) -> None:
    """`setup_demo`'s step: import the texture gallery unless it is there, then make sure its
    binary indexes exist for the serving checkpoint (about 20 s the first time)."""
    from django.core.management import call_command

    if not Gallery.objects.filter(slug=SLUG).exists():
        call_command("import_textures", stdout=stdout)
    if not checkpoint_path().is_file():
        stdout.write(f"no {checkpoint_path().name}: the texture page needs it (manage.py train texture_hash)")
        return
    indexes = texture_indexes()
    stdout.write(f"texture index: {len(next(iter(indexes.by_bits.values())))} textures at "
                 f"{', '.join(map(str, indexes.by_bits))} bits (checkpoint {indexes.checkpoint_id})")


def forget() -> None:
    """Drop the loaded indexes (tests that rebuild the gallery)."""
    _current.clear()
