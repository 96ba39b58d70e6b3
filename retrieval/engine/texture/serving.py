"""Serving texture queries: the patch a box cuts from a query image, what the TSN makes of it,
and the gallery's binary indexes at every code length of a hashing checkpoint (built from the
gallery's crops, saved atomically one file per length with the checkpoint's identity and the
gallery's fingerprint, loaded only when both still match).

A box is (left, top, width, height) in the query image's own pixels (before any shrinking
on decode); the patch is the box's content resized to the networks' ``CROP`` px.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import EngineError, InvalidImage
from .binary import BinaryIndex, hamming, unpack
from .codes import Hasher
from .metrics import average_precision, pr_curve
from .regions import CROP
from .tsn import to_uint8, to_unit

MIN_SIDE = 8  # px: a smaller box (or image) holds too little texture to code
WHOLE_UP_TO = 64  # px: images this small are used whole when no box is given


class InvalidBox(EngineError):
    """A box that is malformed, too small, or reaches outside the image."""


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    def as_text(self) -> str:
        return f"{self.left},{self.top},{self.width},{self.height}"

    def scaled(self, factor: float) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in an image ``factor`` times the size, at least one pixel wide."""
        x0, y0 = int(self.left * factor), int(self.top * factor)
        return (x0, y0, max(x0 + 1, round((self.left + self.width) * factor)),
                max(y0 + 1, round((self.top + self.height) * factor)))


def parse_box(text: str) -> Box:
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise InvalidBox("The box is four whole numbers: left, top, width, height (in the image's pixels).")
    return Box(*map(int, parts))


def default_box(width: int, height: int) -> Box:
    """A centred square: the whole (shorter side of a) small image, else a quarter of the
    shorter side -- the share of a texture every gallery crop holds (32 of its 128 px)."""
    short = min(width, height)
    side = short if short <= WHOLE_UP_TO else max(CROP, short // 4)
    return Box((width - side) // 2, (height - side) // 2, side, side)


def check_box(box: Box, width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise InvalidImage(f"The image is {width} x {height} px: a texture patch needs at least {MIN_SIDE} x {MIN_SIDE}.")
    if box.width < MIN_SIDE or box.height < MIN_SIDE:
        raise InvalidBox(f"The box is {box.width} x {box.height} px: drag a box of at least {MIN_SIDE} x {MIN_SIDE}.")
    if box.left + box.width > width or box.top + box.height > height:
        raise InvalidBox(f"The box ({box.as_text()}) reaches outside the {width} x {height} px image.")


def cut_patch(image: Image.Image, box: Box, factor: float = 1.0) -> tuple[Image.Image, np.ndarray]:
    """The box's content of ``image`` (shown ``factor`` times its own size) and the patch the
    networks take: uint8 RGB [CROP, CROP, 3]."""
    region = image.crop(box.scaled(factor)).convert("RGB")
    patch = region.resize((CROP, CROP), Image.Resampling.BOX if min(region.size) >= CROP else Image.Resampling.BICUBIC)
    return region, np.array(patch, np.uint8)  # a copy: torch wants writable arrays


@torch.inference_mode()
def expand(tsn: torch.nn.Module, patch: np.ndarray) -> np.ndarray:
    """The TSN's 2x expansion of one patch: uint8 [CROP, CROP, 3] -> uint8 [2 CROP, 2 CROP, 3]."""
    tsn.eval()
    return to_uint8(tsn(to_unit(patch[None])))[0]


def bits_of(packed: np.ndarray, bits: int) -> np.ndarray:
    """One packed code -> its bits, uint8 {0, 1} [bits]."""
    return unpack(np.atleast_2d(packed), bits)[0]


# --- the gallery's binary indexes ----------------------------------------------------------

def index_file(folder: Path | str, slug: str, checkpoint_id: str, bits: int) -> Path:
    return Path(folder) / f"{slug}-{checkpoint_id}-{bits}bit.binary.npz"


def build_indexes(hasher: Hasher, crops: np.ndarray, ids, labels, meta: dict, *, batch: int = 256,
                  progress=None) -> dict[int, BinaryIndex]:
    """Code every gallery crop (uint8 [N, CROP, CROP, 3]) at every code length of ``hasher``."""
    parts: dict[int, list] = {b: [] for b in hasher.bits}
    for start in range(0, len(crops), batch):
        for b, codes in hasher.codes(crops[start:start + batch]).items():
            parts[b].append(codes)
        if progress is not None:
            progress(min(start + batch, len(crops)), len(crops))
    full = {**meta, "checkpoint_id": hasher.checkpoint_id, "variant": hasher.variant}
    return {b: BinaryIndex(np.concatenate(p) if p else np.zeros((0, b // 8), np.uint8), ids, labels, full)
            for b, p in parts.items()}


def save_indexes(indexes: dict[int, BinaryIndex], folder: Path | str, slug: str) -> None:
    for b, index in indexes.items():
        index.save(index_file(folder, slug, index.checkpoint_id, b))
    for checkpoint_id in {index.checkpoint_id for index in indexes.values()}:
        prune_other_checkpoints(folder, slug, checkpoint_id)


def prune_other_checkpoints(folder: Path | str, slug: str, keep: str) -> list[Path]:
    """Removes ``slug``'s index files of other checkpoints: one checkpoint serves a gallery, and
    a retrained one would otherwise leave every earlier one's files behind (rebuilt in seconds
    if that checkpoint comes back)."""
    pattern = re.compile(rf"{re.escape(slug)}-([0-9a-f]+)-\d+bit\.binary\.npz")
    removed = []
    for path in Path(folder).glob(f"{slug}-*bit.binary.npz"):
        match = pattern.fullmatch(path.name)
        if match and match.group(1) != keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def load_indexes(folder: Path | str, slug: str, hasher: Hasher, fingerprint: str) -> dict[int, BinaryIndex] | None:
    """The saved indexes of ``hasher``'s checkpoint for the gallery as ``fingerprint`` says it
    is now, or None when one is missing or stale (another checkpoint, or the gallery changed)."""
    indexes = {}
    for b in hasher.bits:
        path = index_file(folder, slug, hasher.checkpoint_id, b)
        if not path.is_file():
            return None
        index = BinaryIndex.load(path, expect_checkpoint=hasher.checkpoint_id)
        if index.meta.get("gallery") != fingerprint:
            return None
        indexes[b] = index
    return indexes


def distances_to_all(index: BinaryIndex, packed: np.ndarray) -> np.ndarray:
    """Hamming distance of one packed query to every gallery code, in the index's order."""
    return hamming(np.atleast_2d(packed), index.codes)[0]


def labelled_curve(index: BinaryIndex, packed: np.ndarray, label: int, leave_out: int | None = None) -> tuple[dict, float, int]:
    """Precision and recall at every Hamming radius, the average precision and the number of
    relevant codes, of one query of class ``label`` over the whole index; the row ``leave_out``
    (the query itself, when it is a gallery texture: a free hit) is left out."""
    distances = distances_to_all(index, packed)
    keep = np.ones(len(index), bool)
    if leave_out is not None:
        keep[leave_out] = False
    distances, relevant = distances[keep], index.labels[keep] == label
    order = np.argsort(distances, kind="stable")
    return pr_curve(distances, relevant, index.bits), round(average_precision(relevant[order]), 4), int(relevant.sum())
