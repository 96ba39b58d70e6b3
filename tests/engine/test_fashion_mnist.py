"""Fashion-MNIST idx reading on tiny hand-written files, and (when installed) the real data."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from retrieval.engine.data.fashion_mnist import CLASS_NAMES, balanced_subset, load_split, read_idx

REAL = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path: Path, data: bytes) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
LABELS = np.array([2, 0, 9], np.uint8)


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_plain_and_gz(tmp_path, name):
    out = read_idx(write(tmp_path / name, idx_bytes(IMAGES)))
    assert out.dtype == np.uint8 and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, IMAGES)
    out[0, 0, 0] = 99  # writable copy, not a view of the file buffer
    assert out.flags.writeable


def test_read_idx_one_dimensional(tmp_path):
    np.testing.assert_array_equal(read_idx(write(tmp_path / "l", idx_bytes(LABELS))), LABELS)


@pytest.mark.parametrize("data", [b"hello world, not idx", b"\x00\x00", b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd"])
def test_read_idx_rejects_non_idx(tmp_path, data):
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(write(tmp_path / "bad", data))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_rejects_truncated(tmp_path, suffix):
    data = idx_bytes(IMAGES)[:-7]
    with pytest.raises(ValueError, match="truncated"):
        read_idx(write(tmp_path / f"t{suffix}", data))


def test_load_split_from_small_folder(tmp_path):
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(IMAGES))
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(LABELS))
    images, labels = load_split(tmp_path, "test")
    assert images.shape == (3, 4, 5) and labels.dtype == np.int64
    assert labels.tolist() == [2, 0, 9]
    images, labels = load_split(str(tmp_path), "test", limit=2)
    assert len(images) == len(labels) == 2
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_split(tmp_path, "train")


def test_load_split_rejects_count_mismatch(tmp_path):
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(IMAGES))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(LABELS[:2]))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        load_split(tmp_path, "test")


@pytest.mark.skipif(not (REAL / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="Fashion-MNIST is not installed at /usr/share/datasets/fashion-mnist")
def test_real_test_split():
    images, labels = load_split(REAL, "test", limit=100)
    assert images.dtype == np.uint8 and images.shape == (100, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (100,)
    assert labels.min() >= 0 and labels.max() <= 9 and len(np.unique(labels)) >= 8
    assert images[:, 0, 0].mean() < 10  # light objects on a black background
    assert len(CLASS_NAMES) == 10


def test_balanced_subset_is_balanced_sorted_and_reproducible():
    labels = np.array([0] * 50 + [1] * 20 + [2] * 5 + [3] * 30)
    np.random.default_rng(3).shuffle(labels)
    chosen = balanced_subset(labels, per_class=10, seed=4)
    assert np.bincount(labels[chosen]).tolist() == [10, 10, 5, 10]  # class 2 has only 5
    assert (np.diff(chosen) > 0).all()  # ascending, no repeats
    np.testing.assert_array_equal(chosen, balanced_subset(labels, per_class=10, seed=4))
    assert not np.array_equal(chosen, balanced_subset(labels, per_class=10, seed=5))
