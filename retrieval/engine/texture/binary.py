"""Binary codes packed as bits, in FAISS binary indexes, stored as one file.

``pack`` turns {-1, +1} (or boolean) codes [N, K] into uint8 [N, K / 8] (bit j of a code is
bit 7 - j % 8 of byte j // 8, numpy's packbits order). ``BinaryIndex`` keeps an
``IndexBinaryFlat`` (exact Hamming ranking) and an ``IndexBinaryHash`` (radius search: its
buckets are the codes' first ``hash_bits`` bits, probed within the radius) with the gallery
ids and labels. Saved atomically with the identity of the checkpoint that made the codes;
``load`` refuses another checkpoint, like the float index (``engine.index``).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from ..errors import IndexMismatch
from ..fileio import atomic_path

FORMAT_VERSION = 1
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def pack(codes: np.ndarray) -> np.ndarray:
    """{-1, +1} / {0, 1} / bool [N, K] (K a multiple of 8) -> uint8 [N, K / 8]."""
    codes = np.atleast_2d(np.asarray(codes))
    if codes.shape[1] % 8:
        raise ValueError(f"code length {codes.shape[1]} is not a multiple of 8")
    return np.ascontiguousarray(np.packbits(codes > 0, axis=1))


def unpack(packed: np.ndarray, bits: int | None = None) -> np.ndarray:
    """uint8 [N, K / 8] -> uint8 {0, 1} [N, K]."""
    return np.unpackbits(np.atleast_2d(packed), axis=1, count=bits)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All Hamming distances between packed codes: [n, B] x [m, B] -> int32 [n, m]."""
    return _POPCOUNT[np.bitwise_xor(a[:, None, :], b[None, :, :])].sum(axis=2, dtype=np.int32)


@dataclass(frozen=True)
class BinaryHits:
    ids: np.ndarray  # [n, k]
    distances: np.ndarray  # [n, k] Hamming distances
    labels: np.ndarray  # [n, k]


class BinaryIndex:
    def __init__(self, codes: np.ndarray, ids: np.ndarray, labels: np.ndarray, meta: dict, *, hash_bits: int | None = None):
        self.codes = np.ascontiguousarray(codes, dtype=np.uint8)
        self.bits = self.codes.shape[1] * 8
        self.ids, self.labels = np.asarray(ids, np.int64), np.asarray(labels, np.int64)
        if not (len(self.codes) == len(self.ids) == len(self.labels)):
            raise ValueError("codes, ids and labels must have the same length")
        self.meta = {**meta, "bits": self.bits, "count": len(self.codes)}
        self.flat = faiss.IndexBinaryFlat(self.bits)
        self.flat.add(self.codes)
        self.hash_bits = hash_bits or min(16, self.bits)
        self.hashed = faiss.IndexBinaryHash(self.bits, self.hash_bits)
        self.hashed.add(self.codes)

    @classmethod
    def build(cls, signs: np.ndarray, ids, labels, meta: dict) -> "BinaryIndex":
        return cls(pack(signs), ids, labels, meta)

    @property
    def checkpoint_id(self) -> str:
        return self.meta["checkpoint_id"]

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, k: int) -> BinaryHits:
        """Exact Hamming ranking (ties: FAISS's order) of packed queries [n, K / 8]."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.uint8)
        k = max(1, min(int(k), len(self)))
        distances, positions = self.flat.search(queries, k)
        positions = np.where(positions >= 0, positions, 0)
        return BinaryHits(self.ids[positions], distances.astype(np.int32), self.labels[positions])

    def within(self, query: np.ndarray, radius: int) -> BinaryHits:
        """Every code within Hamming distance ``radius`` of one packed query, nearest first."""
        self.hashed.nflip = min(radius, self.hash_bits)  # probe every bucket the radius can reach
        limits, distances, positions = self.hashed.range_search(np.ascontiguousarray(np.atleast_2d(query), np.uint8),
                                                                radius + 1)
        order = np.argsort(distances[limits[0]:limits[1]], kind="stable")
        positions, distances = positions[limits[0]:limits[1]][order], distances[limits[0]:limits[1]][order]
        return BinaryHits(self.ids[positions][None], distances.astype(np.int32)[None], self.labels[positions][None])

    def save(self, path: Path | str) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, index=faiss.serialize_index_binary(self.flat), ids=self.ids, labels=self.labels,
                     meta=np.array(json.dumps({**self.meta, "format": FORMAT_VERSION, "hash_bits": self.hash_bits})))

    @classmethod
    def load(cls, path: Path | str, *, expect_checkpoint: str | None = None) -> "BinaryIndex":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if expect_checkpoint is not None and meta.get("checkpoint_id") != expect_checkpoint:
                raise IndexMismatch(f"binary index {Path(path).name} was built by checkpoint {meta.get('checkpoint_id')}, "
                                    f"not by the loaded checkpoint {expect_checkpoint}: rebuild the index")
            flat = faiss.deserialize_index_binary(data["index"])
            codes = faiss.rev_swig_ptr(flat.xb.data(), flat.ntotal * flat.code_size).copy().reshape(flat.ntotal, -1) \
                if flat.ntotal else np.zeros((0, flat.code_size), np.uint8)
            return cls(codes, data["ids"], data["labels"], meta, hash_bits=meta.get("hash_bits"))
