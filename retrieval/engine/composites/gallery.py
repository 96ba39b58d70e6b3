"""A gallery as the composite search sees it: every image at the models' side S ([N, C, S, S]
in [0, 1]), its cut-out mask, and the same at the working resolution of the region search."""

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .builders import cutout_mask, resize

WORK = 32  # side of the region search's working resolution


def downsample(images: np.ndarray, side: int) -> np.ndarray:
    """[N, C, S, S] -> [N, C, side, side] by block averaging (exact when S is a multiple of side)."""
    n, c, s, _ = images.shape
    if s == side:
        return images.astype(np.float32)
    if s % side:
        return np.stack([resize(x, side, side) for x in images])
    f = s // side
    return images.reshape(n, c, side, f, side, f).mean(axis=(3, 5)).astype(np.float32)


@dataclass
class GalleryArrays:
    ids: np.ndarray  # [N] gallery image ids (or any keys)
    images: np.ndarray  # [N, C, S, S] float32 in [0, 1]
    background: float  # 1.0 for images on white, 0.0 on black
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.images.ndim != 4 or len(self.ids) != len(self.images):
            raise ValueError("a gallery needs ids [N] and images [N, C, S, S]")

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def masks(self) -> np.ndarray:
        """[N, S, S] cut-out masks (the object, off the plain background)."""
        return np.stack([cutout_mask(x, self.background) for x in self.images])

    @cached_property
    def work(self) -> np.ndarray:
        return downsample(self.images, min(WORK, self.size))

    @cached_property
    def work_flat(self) -> np.ndarray:
        return self.work.reshape(len(self), -1)

    @cached_property
    def ink(self) -> np.ndarray:
        """What each image adds to a blend over the plain background, flattened [N, d]."""
        return np.abs(self.work_flat - self.background)

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def subset(self, rows) -> "GalleryArrays":
        rows = np.asarray(rows)
        return GalleryArrays(self.ids[rows], self.images[rows], self.background)
