"""Table 1 of the TSN + DSDH paper on the packaged textures: mAP over the whole database at
each code length, Hamming search time, precision within Hamming radius 2, per method.

Queries: the test-region crops; database: ``DATABASE_PER_CLASS`` training-region crops per
texture (``regions``). Learned methods come as ``Hasher``s; ``lbp_lsh`` is built here.
"""

import time

import faiss
import numpy as np

from .binary import BinaryIndex
from .lbp import LBPHasher, lbp_histograms
from .metrics import hamming_map, precision_within
from .regions import DATABASE_PER_CLASS, DATABASE_SEED, Crops, test_crops, training_crops, validation_crops

BITS = (32, 64, 128, 256)
RADIUS = 2
TIMING_BITS = 64
SEARCH_K = 100


def split(textures, validation: bool = False) -> tuple[Crops, Crops]:
    """(database, queries): the test protocol, or with ``validation`` the tuning one (queries
    from the validation quadrant, the database from the two training quadrants left)."""
    database = training_crops(textures, DATABASE_PER_CLASS, seed=DATABASE_SEED, validation=validation)
    return database, validation_crops(textures) if validation else test_crops(textures)


def lbp_codes(database: Crops, queries: Crops, bits=BITS) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    db_features, q_features = lbp_histograms(database.images), lbp_histograms(queries.images)
    out = {}
    for b in bits:
        hasher = LBPHasher(db_features, b)
        out[b] = (hasher.codes(db_features), hasher.codes(q_features))
    return out


def score(codes: dict[int, tuple[np.ndarray, np.ndarray]], database: Crops, queries: Crops) -> dict:
    """{bits: (packed database, packed queries)} -> mAP per length, precision within radius 2, query time."""
    report = {"mAP": {}, f"precision_r{RADIUS}": {}}
    for b, (db, q) in sorted(codes.items()):
        report["mAP"][str(b)] = round(hamming_map(q, queries.labels, db, database.labels), 4)
        report[f"precision_r{RADIUS}"][str(b)] = precision_within(q, queries.labels, db, database.labels, RADIUS)["precision"]
    timing_bits = TIMING_BITS if TIMING_BITS in codes else max(codes)
    db, q = codes[timing_bits]
    report["query_ms"], report["query_ms_single"] = search_ms(db, q, database.labels)
    report["query_ms_bits"] = timing_bits
    return report


def search_ms(db_codes: np.ndarray, query_codes: np.ndarray, labels: np.ndarray, k: int = SEARCH_K) -> tuple[float, float]:
    """Milliseconds per query of an exact Hamming search (IndexBinaryFlat): in one batch, and one at a time."""
    index = BinaryIndex(db_codes, np.arange(len(db_codes)), labels, {"checkpoint_id": "timing"})
    index.search(query_codes[:8], k)  # warm
    t0 = time.perf_counter()
    index.search(query_codes, k)
    batched = (time.perf_counter() - t0) * 1000 / max(len(query_codes), 1)
    singles = query_codes[:200]
    t0 = time.perf_counter()
    for row in singles:
        index.search(row[None], k)
    single = (time.perf_counter() - t0) * 1000 / max(len(singles), 1)
    return round(batched, 4), round(single, 4)


def synthetic_search_ms(count: int = 1_000_000, bits: int = 64, queries: int = 1000, k: int = 10, seed: int = 0) -> dict:
    """Exact Hamming search over ``count`` random codes (IndexBinaryFlat), ms per query in a batch."""
    rng = np.random.default_rng(seed)
    index = faiss.IndexBinaryFlat(bits)
    index.add(rng.integers(0, 256, size=(count, bits // 8), dtype=np.uint8))
    batch = rng.integers(0, 256, size=(queries, bits // 8), dtype=np.uint8)
    index.search(batch[:4], k)
    t0 = time.perf_counter()
    index.search(batch, k)
    batched = (time.perf_counter() - t0) * 1000 / queries
    t0 = time.perf_counter()
    for row in batch[:20]:
        index.search(row[None], k)
    single = (time.perf_counter() - t0) * 1000 / 20
    return {"codes": count, "bits": bits, "queries": queries, "k": k, "ms_per_query": round(batched, 4),
            "ms_single_query": round(single, 3), "threads": faiss.omp_get_max_threads()}


def hasher_codes(hasher, database: Crops, queries: Crops) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    db, q = hasher.codes(database.images), hasher.codes(queries.images)
    return {b: (db[b], q[b]) for b in hasher.bits}
