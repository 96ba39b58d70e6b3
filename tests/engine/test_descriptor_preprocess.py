"""to_gallery_style: the query brought to the gallery's look (light object on black, square)."""

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.descriptors.cnn import to_gallery_style


def square_object(background: int, foreground: int, w: int = 40, h: int = 40, mode: str = "L") -> Image.Image:
    pixels = np.full((h, w), background, np.uint8)
    pixels[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = foreground
    img = Image.fromarray(pixels, "L")
    return img.convert(mode)


def test_dark_object_on_white_is_inverted():
    view = to_gallery_style(square_object(background=255, foreground=0), 28)
    out = np.asarray(view.image)
    assert view.inverted is True
    assert view.image.mode == "L" and view.image.size == (28, 28)
    assert out[0, 0] < 10 and out[-1, -1] < 10  # white background became black
    assert out[14, 14] > 245  # dark object became light


def test_light_object_on_black_is_left_alone():
    view = to_gallery_style(square_object(background=0, foreground=255), 28)
    out = np.asarray(view.image)
    assert view.inverted is False
    assert out[0, 0] < 10 and out[14, 14] > 245


def test_inversion_can_be_disabled():
    view = to_gallery_style(square_object(background=255, foreground=0), 28, dark_background=False)
    assert view.inverted is False
    assert np.asarray(view.image)[0, 0] > 245


def test_colour_input_becomes_greyscale():
    view = to_gallery_style(square_object(background=255, foreground=0, mode="RGB"), 28)
    assert view.image.mode == "L" and view.inverted is True


def test_background_is_the_median_of_the_border():
    pixels = np.zeros((30, 30), np.uint8)
    pixels[0, :10] = 255  # a few light border pixels do not make the background light
    assert to_gallery_style(Image.fromarray(pixels), 28).inverted is False


def test_wide_image_is_padded_to_a_square_with_background():
    # 60 x 30, light object filling the middle of a dark image
    pixels = np.zeros((30, 60), np.uint8)
    pixels[5:25, 10:50] = 255
    view = to_gallery_style(Image.fromarray(pixels), 60)
    out = np.asarray(view.image)
    assert out.shape == (60, 60)
    # the 30 rows of padding go 15 above and 15 below; the object keeps its size and place
    assert out[:15].max() == 0 and out[45:].max() == 0
    assert out[20:40, 10:50].min() == 255
    assert out[20:40, :10].max() == 0


def test_tall_image_padding_uses_the_inverted_background():
    pixels = np.full((50, 20), 255, np.uint8)
    pixels[10:40, 5:15] = 0  # dark object on white, portrait
    view = to_gallery_style(Image.fromarray(pixels), 28)
    out = np.asarray(view.image)
    assert view.inverted is True and out.shape == (28, 28)
    assert out[:, :3].max() < 10 and out[:, -3:].max() < 10  # side padding is dark, not white
    assert out[14, 14] > 245


@pytest.mark.parametrize("size, source", [(28, (100, 100)), (32, (10, 10)), (28, (28, 28)), (16, (7, 3))])
def test_output_size(size, source):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, source[::-1], dtype=np.uint8))
    assert to_gallery_style(img, size).image.size == (size, size)


def test_already_gallery_style_is_unchanged():
    pixels = np.random.default_rng(1).integers(0, 100, (28, 28), dtype=np.uint8)
    view = to_gallery_style(Image.fromarray(pixels), 28)
    assert view.inverted is False
    np.testing.assert_array_equal(np.asarray(view.image), pixels)
