"""Held-out composites (made unlike the builders: stored files at their own aspect, other filters,
collages fitted or cropped, pastes on real patterns, JPEG) and the search that reads them as
uploads: the sources of each kind are found, a wide stamp is found at its own aspect."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from retrieval.engine.composites.collage_search import framed
from retrieval.engine.composites.data import to_array
from retrieval.engine.composites.explain import explain, ranking
from retrieval.engine.composites.foreign import CANVAS, foreign_composite, wand_mask
from retrieval.engine.composites.gallery import GalleryArrays
from retrieval.engine.composites.paste_search import SIDES


def _pictures(count: int, seed: int = 0) -> list[Image.Image]:
    """Coloured shapes on white at their own sizes: wide, tall and square, at 3x the model side."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        w, h = [(192, 96), (96, 192), (192, 192), (192, 128)][i % 4]
        picture = Image.new("RGB", (w, h), (255, 255, 255))
        draw = ImageDraw.Draw(picture)
        for _ in range(3):
            colour = tuple(int(c) for c in rng.integers(0, 220, 3))
            x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
            box = [x0, y0, x0 + int(rng.integers(w // 4, w // 2)), y0 + int(rng.integers(h // 4, h // 2))]
            (draw.ellipse if i % 2 else draw.rectangle)(box, fill=colour, outline=(0, 0, 0), width=3)
        out.append(picture)
    return out


@pytest.fixture(scope="module")
def pictures():
    return _pictures(20)


@pytest.fixture(scope="module")
def gallery(pictures):
    images = np.stack([to_array(p, 64, 3) for p in pictures])
    return GalleryArrays(np.arange(len(images)), images, 1.0, np.array([p.width / p.height for p in pictures]))


@pytest.fixture(scope="module")
def patterns():
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8).repeat(2, 0).repeat(2, 1) for _ in range(3)]


def _read(data: bytes) -> np.ndarray:
    return to_array(Image.open(io.BytesIO(data)), 64, 3)


@pytest.mark.parametrize("kind", ["blend", "collage", "paste"])
def test_a_held_out_composite_is_a_jpeg_determined_by_its_seed(pictures, patterns, kind):
    make = lambda seed: foreign_composite(kind, pictures[:3], np.random.default_rng(seed), side=64, channels=3,  # noqa: E731
                                          background=1.0, textures=patterns)
    first, again, other = make(4), make(4), make(5)
    assert first.data == again.data and first.recipe == again.recipe and first.data != other.data
    with Image.open(io.BytesIO(first.data)) as image:
        assert image.format == "JPEG" and image.size == (CANVAS * 64, CANVAS * 64)
    assert 75 <= first.recipe["quality"] <= 95


def test_pasted_stamps_stay_on_the_canvas_and_mostly_visible(pictures, patterns):
    made = foreign_composite("paste", pictures[:3], np.random.default_rng(0), side=64, channels=3, background=1.0,
                             textures=patterns)
    assert len(made.recipe["boxes"]) == 3
    for x0, y0, x1, y1 in made.recipe["boxes"]:
        assert 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 256


def test_the_magic_wand_keeps_a_hole_inside_the_object():
    image = np.ones((40, 40, 3), np.float32)
    image[5:35, 5:35] = [0.8, 0.1, 0.1]
    image[15:25, 15:25] = 1.0  # a white belly, enclosed
    mask = wand_mask(image, 1.0)
    assert mask[20, 20] and mask[6, 6] and not mask[1, 1]


@pytest.mark.parametrize("mode", ["fit", "fill"])
def test_framing_keeps_the_aspect(mode):
    content = np.zeros((1, 10, 20), np.float32)  # wide, black on a white background
    part = framed(content, 20, 20, mode, 1.0)
    assert part.shape == (1, 20, 20)
    if mode == "fit":  # letterboxed: white above and below, the image across the middle
        assert part[0, 0].min() == 1.0 and part[0, 10].max() == 0.0
    else:  # scaled to cover the part, then cropped: no background left
        assert part.max() == 0.0


@pytest.mark.parametrize("kind", ["blend", "collage", "paste"])
def test_the_sources_of_held_out_composites_are_found(gallery, pictures, patterns, kind):
    rng, shares = np.random.default_rng(11), []
    for n in (2, 3, 2, 3):
        rows = rng.choice(len(gallery), n, replace=False)
        made = foreign_composite(kind, [pictures[r] for r in rows], rng, side=64, channels=3, background=1.0,
                                 textures=patterns)
        shares.append(np.isin(rows, ranking(explain(gallery, _read(made.data)), 6)).mean())
    assert np.mean(shares) >= (0.75 if kind == "paste" else 1.0), shares


def test_a_wide_stamp_is_matched_at_its_own_aspect(gallery, pictures, patterns):
    """The gallery's images are squeezed to squares for the models; a pasted stamp keeps its
    shape, so the paste search compares the image at its own aspect (``cutouts``)."""
    assert gallery.cutouts[0].shape == (3, 64, 64) and gallery.content_box(0) == (0, 16, 64, 48)
    assert gallery.cutouts[0][:, :10].min() == 1.0  # the wide picture's letterbox
    for seed in range(50):  # the first composite whose wide stamp is pasted at a searched size
        composite = foreign_composite("paste", [pictures[0], pictures[5]], np.random.default_rng(seed), side=64,
                                      channels=3, background=1.0, textures=patterns)
        x0, _, x1, _ = composite.recipe["boxes"][0]
        if SIDES[0] + 0.02 <= (x1 - x0) / (CANVAS * 64) <= SIDES[1] - 0.02:
            break
    explanation = explain(gallery, _read(composite.data), hypotheses=("paste",))
    assert 0 in [f.row for f in explanation.fits["paste"].found]


def test_a_wide_paste_is_made_on_a_canvas_of_its_aspect_and_only_pastes_are():
    pictures = [Image.new("RGB", (60, 40), (200, 30, 30)), Image.new("RGB", (30, 50), (30, 30, 200))]
    pattern = np.full((16, 16, 3), 128, np.uint8)
    made = foreign_composite("paste", pictures, np.random.default_rng(0), side=64, channels=3, background=1.0,
                             textures=[pattern], aspect=1.6)
    with Image.open(io.BytesIO(made.data)) as image:
        assert image.size == (256, 160)
    assert all(0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 160 for x0, y0, x1, y1 in made.recipe["boxes"])
    with pytest.raises(ValueError, match="only pastes"):
        foreign_composite("blend", pictures, np.random.default_rng(0), side=64, channels=3, background=1.0, aspect=1.6)
