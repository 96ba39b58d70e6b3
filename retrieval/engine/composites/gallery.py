"""A gallery as the composite search sees it: every image at the models' side S ([N, C, S, S]
in [0, 1]; squeezed to a square, as the models see it), the same image at its own aspect ratio
fitted on the plain background (``cutouts``: what a pasted cut-out or a fitted collage part looks
like), its cut-out mask, and the same at the working resolution of the region search."""

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .builders import cutout_mask, resize
from .fits import centred_box

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
    aspects: np.ndarray | None = None  # [N] width / height of each stored image (None: all square)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.images.ndim != 4 or len(self.ids) != len(self.images):
            raise ValueError("a gallery needs ids [N] and images [N, C, S, S]")
        if self.aspects is not None and len(self.aspects) != len(self.ids):
            raise ValueError("one aspect ratio per image")

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return len(self.ids)

    def content_box(self, row: int, size: int | None = None) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the image inside its ``cutouts`` square of side ``size`` (S)."""
        return centred_box(1.0 if self.aspects is None else float(self.aspects[row]), size or self.size)

    @cached_property
    def cutouts(self) -> np.ndarray:
        """[N, C, S, S]: each image back at its own aspect ratio, its longer side S, centred on the
        plain background (the squeezed image resized along its shorter side only)."""
        if self.aspects is None or np.all(self.aspects == 1):
            return self.images
        out = np.full_like(self.images, self.background)
        for row, image in enumerate(self.images):
            x0, y0, x1, y1 = self.content_box(row)
            out[row, :, y0:y1, x0:x1] = resize(image, x1 - x0, y1 - y0)
        return out

    def sources_for(self, kind: str) -> np.ndarray:
        """The images a composite of ``kind`` is built from: a pasted cut-out keeps its own aspect,
        a blended or collaged image is the squeezed square."""
        return self.cutouts if kind == "paste" else self.images

    @cached_property
    def masks(self) -> np.ndarray:
        """[N, S, S] cut-out masks of the ``cutouts`` (the object, off the plain background)."""
        return np.stack([cutout_mask(x, self.background) for x in self.cutouts])

    @cached_property
    def work_cutouts(self) -> np.ndarray:
        return downsample(self.cutouts, min(WORK, self.size))

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
        aspects = None if self.aspects is None else self.aspects[rows]
        return GalleryArrays(self.ids[rows], self.images[rows], self.background, aspects)
