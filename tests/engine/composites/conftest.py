"""A tiny synthetic colour gallery on white: shapes of different colours, sizes and places."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from retrieval.engine.composites.data import to_array
from retrieval.engine.composites.gallery import GalleryArrays


def shapes(count: int, size: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        image = Image.new("RGB", (size, size), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for _ in range(3):
            colour = tuple(int(c) for c in rng.integers(0, 220, 3))
            x0, y0 = rng.integers(4, size // 2, 2)
            x1, y1 = x0 + rng.integers(10, size // 2), y0 + rng.integers(10, size // 2)
            (draw.ellipse if i % 2 else draw.rectangle)([int(x0), int(y0), int(x1), int(y1)], fill=colour)
        out.append(to_array(image, size, 3))
    return np.stack(out)


@pytest.fixture(scope="module")
def tiny_gallery() -> GalleryArrays:
    images = shapes(24)
    return GalleryArrays(np.arange(100, 100 + len(images)), images, 1.0)
