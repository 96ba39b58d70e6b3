"""decode_image: every rule for untrusted bytes, with inputs built here by Pillow/numpy."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.errors import EngineError, ImageTooLarge, InvalidImage, UnsupportedImage
from retrieval.engine.images import decode_image, encode_png


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def header_only_png(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming width x height, with no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")


def noise(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)


def assert_sentence(error: Exception) -> None:
    message = str(error)
    assert message[:1].isupper() and message.endswith("."), message
    assert "Traceback" not in message and "PIL" not in message


# --- refused input ---------------------------------------------------------------------

def test_empty_bytes_are_invalid():
    with pytest.raises(InvalidImage) as info:
        decode_image(b"")
    assert "empty" in str(info.value)
    assert_sentence(info.value)


def test_random_bytes_are_invalid():
    data = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(InvalidImage) as info:
        decode_image(data)
    assert type(info.value) is InvalidImage
    assert "not an image" in str(info.value)
    assert_sentence(info.value)


def test_plain_text_is_invalid():
    with pytest.raises(InvalidImage):
        decode_image(b"hello, this is a text file\n" * 10)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_invalid_with_truncated_message(fmt):
    data = encode(Image.fromarray(noise(64, 64)), fmt)
    with pytest.raises(InvalidImage) as info:
        decode_image(data[: len(data) // 2])
    assert type(info.value) is InvalidImage
    assert "truncated or corrupt" in str(info.value)
    assert_sentence(info.value)


def test_header_only_png_is_truncated_not_accepted():
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        decode_image(header_only_png(10, 10))


@pytest.mark.parametrize("svg", [
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
    b'  \n<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>',
    b'<SVG WIDTH="1" HEIGHT="1"></SVG>',
])
def test_svg_is_unsupported(svg):
    with pytest.raises(UnsupportedImage) as info:
        decode_image(svg)
    assert "SVG" in str(info.value)
    assert_sentence(info.value)


def test_xml_that_is_not_svg_is_merely_invalid():
    with pytest.raises(InvalidImage) as info:
        decode_image(b'<?xml version="1.0"?><note>hi</note>')
    assert not isinstance(info.value, UnsupportedImage)


def test_error_hierarchy_lets_the_web_layer_catch_one_class():
    assert issubclass(UnsupportedImage, InvalidImage)
    assert issubclass(ImageTooLarge, InvalidImage)
    assert issubclass(InvalidImage, EngineError)


def test_huge_header_is_refused_before_decoding():
    # 9000 x 9000 = 81 Mpx > the 40 Mpx default; there is no pixel data, so a decode attempt
    # would report "truncated": ImageTooLarge proves the size was checked from the header.
    with pytest.raises(ImageTooLarge) as info:
        decode_image(header_only_png(9000, 9000))
    assert "9000x9000" in str(info.value)
    assert_sentence(info.value)


def test_pillow_bomb_limit_maps_to_image_too_large():
    # 20000 x 20000 is over twice Pillow's own limit, so Image.open itself refuses it.
    with pytest.raises(ImageTooLarge) as info:
        decode_image(header_only_png(20000, 20000))
    assert "too large" in str(info.value)
    assert_sentence(info.value)


def test_real_one_bit_png_of_9000_square_is_too_large():
    data = encode(Image.new("1", (9000, 9000)), "PNG")
    with pytest.raises(ImageTooLarge):
        decode_image(data)


def test_max_pixels_argument_is_respected():
    data = encode(Image.new("RGB", (100, 100), "white"), "PNG")
    with pytest.raises(ImageTooLarge, match="100x100"):
        decode_image(data, max_pixels=100 * 100 - 1)
    assert decode_image(data, max_pixels=100 * 100).image.size == (100, 100)


# --- accepted input, normalised to RGB or L ----------------------------------------------

def test_one_pixel_image_decodes():
    decoded = decode_image(encode(Image.new("RGB", (1, 1), (10, 20, 30)), "PNG"))
    assert decoded.image.size == (1, 1)
    assert decoded.image.getpixel((0, 0)) == (10, 20, 30)
    assert decoded.format == "PNG" and decoded.frames == 1 and decoded.is_colour


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_lossless_rgb_formats_round_trip(fmt):
    pixels = noise(8, 12)
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    decoded = decode_image(encode(Image.fromarray(pixels), fmt, **kwargs))
    assert decoded.format == fmt
    assert decoded.image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(decoded.image), pixels)


def test_greyscale_stays_greyscale():
    pixels = noise(5, 7, 1)[..., 0]
    decoded = decode_image(encode(Image.fromarray(pixels, "L"), "PNG"))
    assert decoded.image.mode == "L" and not decoded.is_colour
    np.testing.assert_array_equal(np.asarray(decoded.image), pixels)


def test_one_bit_becomes_l():
    img = Image.new("1", (3, 2), 0)
    img.putpixel((1, 1), 1)
    decoded = decode_image(encode(img, "PNG"))
    assert decoded.image.mode == "L"
    assert np.asarray(decoded.image).tolist() == [[0, 0, 0], [0, 255, 0]]


def test_animated_gif_gives_first_frame_and_frame_count():
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "lime", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = decode_image(buffer.getvalue())
    assert decoded.format == "GIF"
    assert decoded.frames == 3
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((5, 5)) == (255, 0, 0)


def test_rgba_transparency_is_composited_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)  # fully transparent black everywhere ...
    rgba[0, 0] = (255, 0, 0, 255)  # ... except one opaque red pixel
    rgba[1, 1] = (0, 0, 255, 128)  # and one half-transparent blue pixel
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded.image.mode == "RGB"
    out = np.asarray(decoded.image)
    assert out[0, 0].tolist() == [255, 0, 0]
    assert out[0, 1].tolist() == [255, 255, 255]  # transparent black became white
    assert out[1, 0].tolist() == [255, 255, 255]
    r, g, b = out[1, 1].tolist()
    assert b == 255 and 120 <= r <= 135 and r == g  # blue blended half way to white


def test_palette_with_transparency_is_composited_on_white():
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    img.putpixel((1, 1), 1)
    decoded = decode_image(encode(img, "PNG", transparency=0))
    assert decoded.image.mode == "RGB"
    out = np.asarray(decoded.image)
    assert out[0, 0].tolist() == [255, 255, 255]  # palette index 0 is transparent
    assert out[1, 1].tolist() == [255, 0, 0]


def test_palette_without_transparency_keeps_colours():
    img = Image.new("P", (2, 1), 0)
    img.putpalette([0, 0, 0, 0, 128, 255] + [0] * (256 * 3 - 6))
    img.putpixel((1, 0), 1)
    out = np.asarray(decode_image(encode(img, "PNG")).image)
    assert out.tolist() == [[[0, 0, 0], [0, 128, 255]]]


def test_grey_with_alpha_is_composited_on_white_and_stays_grey():
    grey = np.full((1, 3), 10, np.uint8)
    alpha = np.array([[0, 255, 128]], np.uint8)
    decoded = decode_image(encode(Image.fromarray(np.stack([grey, alpha], -1), "LA"), "PNG"))
    assert decoded.image.mode == "L"
    out = np.asarray(decoded.image)[0]
    assert out[0] == 255 and out[1] == 10
    assert abs(int(out[2]) - round(10 * 128 / 255 + 255 * 127 / 255)) <= 1


@pytest.mark.parametrize("cmyk, rgb", [((0, 0, 0, 0), (255, 255, 255)), ((255, 0, 0, 0), (0, 255, 255)),
                                       ((0, 0, 0, 255), (0, 0, 0))])
def test_cmyk_jpeg_becomes_rgb(cmyk, rgb):
    data = encode(Image.new("CMYK", (8, 8), cmyk), "JPEG", quality=95)
    decoded = decode_image(data)
    assert decoded.format == "JPEG" and decoded.image.mode == "RGB"
    assert np.abs(np.asarray(decoded.image)[4, 4].astype(int) - rgb).max() <= 4


def test_sixteen_bit_png_is_rescaled_to_8bit_grey():
    wide = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    img = Image.fromarray(wide)
    assert img.mode == "I;16"
    decoded = decode_image(encode(img, "PNG"))
    assert decoded.image.mode == "L"
    expected = np.rint(wide / 65535 * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(decoded.image), expected)


def test_sixteen_bit_png_narrow_range_is_stretched():
    decoded = decode_image(encode(Image.fromarray(np.array([[1000, 1500, 2000]], np.uint16)), "PNG"))
    assert np.asarray(decoded.image).tolist() == [[0, 128, 255]]


def test_sixteen_bit_png_holding_8bit_values_is_kept():
    decoded = decode_image(encode(Image.fromarray(np.array([[3, 100, 200]], np.uint16)), "PNG"))
    assert np.asarray(decoded.image).tolist() == [[3, 100, 200]]


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), "white")
    img.paste((255, 0, 0), (0, 0, 10, 20))  # red band on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    decoded = decode_image(encode(img, "JPEG", exif=exif, quality=95))
    assert decoded.image.size == (20, 40)
    out = np.asarray(decoded.image).astype(int)
    assert out[2, 10, 0] > 200 and out[2, 10, 1] < 60  # the red band is now on top
    assert out[-3, 10].min() > 200  # the bottom is white


def test_encode_png_round_trips():
    img = Image.fromarray(noise(6, 4))
    decoded = decode_image(encode_png(img))
    assert decoded.format == "PNG"
    np.testing.assert_array_equal(np.asarray(decoded.image), np.asarray(img))
