"""A tiny stamps gallery (coloured shapes on white, imported as `tuxpaint-stamps`) for the
composites page, API, websocket and evaluation tests, and the committed stamps latent models
copied into the test checkpoint folder for the tests that search by latents."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image, ImageDraw

from retrieval.composites import services
from retrieval.galleries.folders import gallery_import_folder

COMMITTED = Path(__file__).resolve().parents[3] / "retrieval" / "checkpoints"


@pytest.fixture
def stamps(db, tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("discs", "boxes"):
        (tmp_path / cls).mkdir()
        for i in range(9):
            image = Image.new("RGB", (64, 64), (255, 255, 255))
            draw = ImageDraw.Draw(image)
            for _ in range(3):
                colour = tuple(int(c) for c in rng.integers(0, 220, 3))
                x0, y0 = (int(v) for v in rng.integers(4, 32, 2))
                box = [x0, y0, x0 + int(rng.integers(10, 30)), y0 + int(rng.integers(10, 30))]
                (draw.ellipse if cls == "discs" else draw.rectangle)(box, fill=colour)
            image.save(tmp_path / cls / f"{i}.png")
    services.composite_gallery.cache_clear()
    gallery = gallery_import_folder(folder=tmp_path, slug="tuxpaint-stamps").gallery
    yield gallery
    services.composite_gallery.cache_clear()


@pytest.fixture
def latents(stamps):
    """The committed stamps encoder (the paper's) and baseline autoencoder, served from the test
    checkpoint folder (64 px, so they read the tiny gallery's images as they are)."""
    folder = Path(settings.RETRIEVAL["CHECKPOINT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for family in ("encoder", "ae"):
        shutil.copyfile(COMMITTED / f"composites-{family}-stamps.pt", folder / f"composites-{family}-stamps.pt")
    services.latent_model.cache_clear()
    yield stamps
    services.latent_model.cache_clear()
    for family in ("encoder", "ae"):
        (folder / f"composites-{family}-stamps.pt").unlink(missing_ok=True)


def pick(gallery, count: int = 3) -> list[int]:
    return list(gallery.images.order_by("id").values_list("id", flat=True)[:18:6][:count])
