"""The composite builders: sources recorded with their regions, alpha respected, determinism."""

import numpy as np
import pytest

from retrieval.engine.composites import builders
from retrieval.engine.composites.textures import TEXTURES, texture

from .conftest import shapes


@pytest.fixture(scope="module")
def images():
    return list(shapes(3))


def test_a_blend_is_the_alpha_mix_and_records_each_alpha(images):
    composite = builders.blend(images, [2, 1, 1])
    assert composite.kind == "blend" and [s.position for s in composite.sources] == [0, 1, 2]
    assert [s.weight for s in composite.sources] == pytest.approx([0.5, 0.25, 0.25])
    expected = 0.5 * images[0] + 0.25 * images[1] + 0.25 * images[2]
    assert np.allclose(composite.image, expected, atol=1e-6)
    assert all(np.allclose(s.mask, s.weight) and s.box == (0, 0, 64, 64) for s in composite.sources)


def test_blend_weights_are_checked(images):
    with pytest.raises(ValueError):
        builders.blend(images, [1, -1, 1])
    with pytest.raises(ValueError):
        builders.blend(images[:1])


@pytest.mark.parametrize("layout", list(builders.LAYOUTS))
def test_a_collage_puts_each_source_in_its_part(images, layout):
    n = 2 if layout.startswith("halves") else 3
    composite = builders.collage(images[:n], layout)
    cover = sum(s.mask for s in composite.sources)
    assert np.allclose(cover, 1)  # every pixel comes from exactly one source
    for (x0, y0, x1, y1), owner in zip(builders.part_boxes(layout, 64), [i % n for i in range(9)], strict=False):
        part = builders.resize(images[owner], x1 - x0, y1 - y0)
        assert np.allclose(composite.image[:, y0:y1, x0:x1], part, atol=1e-6)
        assert composite.sources[owner].mask[y0:y1, x0:x1].all()


def test_paste_respects_the_cut_outs_alpha_and_records_what_stays_visible(images):
    masks = [builders.cutout_mask(x, 1.0) for x in images[:2]]
    composite = builders.paste(images[:2], masks, [(0, 0, 0.5), (16, 16, 0.5)], ("checks", 3))
    bg = texture("checks", 64, 3, 3)
    first, second = composite.sources
    alpha = builders.resize(masks[1][None], 32, 32)[0]
    assert np.allclose(second.mask[16:48, 16:48], alpha)
    assert (first.mask[16:48, 16:48] <= 1 - alpha + 1e-6).all()  # what the second covers of the first
    nowhere = (first.mask + second.mask) == 0
    assert np.allclose(composite.image[:, nowhere], bg[:, nowhere])  # the texture where no cut-out is
    assert second.box[0] >= 16 and second.box[2] <= 48
    assert composite.recipe["texture"] == ["checks", 3]


def test_paste_on_an_image_makes_the_image_a_source(images):
    masks = [builders.cutout_mask(images[0], 1.0)]
    composite = builders.paste(images[:1], masks, [(8, 8, 0.5)], images[2])
    assert [s.role for s in composite.sources] == ["source", "background"]
    assert np.allclose(composite.sources[0].mask + composite.sources[1].mask, 1)


def test_paste_refuses_a_cut_out_off_the_canvas(images):
    with pytest.raises(ValueError, match="leaves"):
        builders.paste(images[:1], [np.ones((64, 64))], [(40, 40, 0.5)], ("noise", 0))


@pytest.mark.parametrize("kind", builders.KINDS)
def test_random_composites_are_determined_by_the_seed(images, kind):
    a = builders.random_composite(kind, images, np.random.default_rng(7))
    b = builders.random_composite(kind, images, np.random.default_rng(7))
    c = builders.random_composite(kind, images, np.random.default_rng(8))
    assert np.array_equal(a.image, b.image) and a.recipe == b.recipe
    assert kind == "collage" or not np.array_equal(a.image, c.image)  # a collage's only draw is its layout
    assert len(a.sources) == 3 and a.image.dtype == np.float32 and 0 <= a.image.min() <= a.image.max() <= 1


@pytest.mark.parametrize("name", TEXTURES)
def test_textures_are_seeded(name):
    assert np.array_equal(texture(name, 32, 3, 1), texture(name, 32, 3, 1))
    assert texture(name, 32, 1, 1).shape == (1, 32, 32)
