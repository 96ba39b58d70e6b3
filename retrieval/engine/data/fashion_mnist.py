"""Fashion-MNIST from its four idx files (gzipped or not), as shipped by Debian's
``dataset-fashion-mnist`` under /usr/share/datasets/fashion-mnist."""

import gzip
from pathlib import Path

import numpy as np

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DTYPES = {0x08: np.uint8}


def read_idx(path: Path) -> np.ndarray:
    """Read one idx file: a big-endian header (zero, zero, dtype, ndim, dims) then raw data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file of unsigned bytes")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=_IDX_DTYPES[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: expected {dims}, got {data.size} values")
    return data.reshape(dims).copy()  # writable, independent of the file buffer


def _find(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{stem}(.gz) not found in {folder}")


def load_split(folder: Path | str, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images as uint8 [N, 28, 28] (white object on black) and labels as int64 [N]."""
    folder = Path(folder)
    images_stem, labels_stem = SPLIT_FILES[split]
    images = read_idx(_find(folder, images_stem))
    labels = read_idx(_find(folder, labels_stem)).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{split}: {len(images)} images but {len(labels)} labels")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def balanced_subset(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of up to ``per_class`` items of every label, in ascending order (reproducible)."""
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))
