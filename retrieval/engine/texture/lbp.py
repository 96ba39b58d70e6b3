"""The baseline: local binary pattern histograms (scikit-image) hashed by FAISS's LSH.

Each crop's grey image gives rotation-invariant uniform LBP histograms at three radii
(P = 8, 16, 24 at R = 1, 2, 3: 10 + 18 + 26 = 54 bins), each normalised to sum 1.
``faiss.IndexLSH`` (random rotation to K dimensions, thresholds trained on the database)
turns them into K-bit codes, searched by Hamming distance like the learned ones (FAISS seeds
the rotation itself, so the codes are reproducible).
"""

import faiss
import numpy as np
from skimage.feature import local_binary_pattern

SCALES = ((8, 1), (16, 2), (24, 3))


def lbp_histograms(images: np.ndarray) -> np.ndarray:
    """uint8 RGB [N, H, W, 3] -> float32 [N, 54]."""
    grey = (images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).round().astype(np.uint8)
    rows = []
    for image in grey:
        parts = []
        for points, radius in SCALES:
            codes = local_binary_pattern(image, points, radius, method="uniform")
            hist = np.bincount(codes.astype(np.int64).ravel(), minlength=points + 2).astype(np.float32)
            parts.append(hist / max(hist.sum(), 1.0))
        rows.append(np.concatenate(parts))
    return np.stack(rows)


class LBPHasher:
    def __init__(self, database_features: np.ndarray, bits: int):
        self.bits = bits
        self.lsh = faiss.IndexLSH(database_features.shape[1], bits, True, True)
        self.lsh.train(np.ascontiguousarray(database_features, np.float32))

    def codes(self, features: np.ndarray) -> np.ndarray:
        """float32 [N, 54] -> packed uint8 [N, bits / 8] (FAISS's bit order, compared only with each other)."""
        return self.lsh.sa_encode(np.ascontiguousarray(features, np.float32))
