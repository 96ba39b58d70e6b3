"""A tiny colour gallery made by the folder import, for the lab's tests."""

import numpy as np
import pytest
from PIL import Image

from retrieval.galleries.folders import gallery_import_folder


@pytest.fixture
def colour_gallery(db, tmp_path):
    """Two classes of 8 images: reddish squares and bluish discs, each a little different."""
    rng = np.random.default_rng(0)
    for cls, base in (("reds", (200, 30, 30)), ("blues", (30, 30, 200))):
        (tmp_path / cls).mkdir()
        for i in range(8):
            colour = tuple(int(np.clip(c + rng.integers(-40, 40), 0, 255)) for c in base)
            image = Image.new("RGB", (48, 48), (255, 255, 255))
            image.paste(colour, (8 + i, 8, 40, 40 - i))
            image.save(tmp_path / cls / f"{i}.png")
    return gallery_import_folder(folder=tmp_path, slug="tiny-colour").gallery
