"""Bounded decoding: every image is shrunk while it decodes, whatever its shape or format."""

import io

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.images import DEFAULT_MAX_SIDE, decode_image, set_decode_gate


def encoded(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize(("size", "shrunk"), [
    ((6000, 6000), (512, 512)),
    ((40000, 1), (512, 1)),
    ((1, 40000), (1, 512)),
    ((3000, 700), (512, 119)),
    ((512, 300), (512, 300)),  # small enough: untouched
])
def test_large_and_long_thin_images_are_shrunk_keeping_their_shape(size, shrunk):
    decoded = decode_image(encoded(Image.new("L", size, 77)))
    assert decoded.image.size == shrunk and (decoded.width, decoded.height) == size
    assert np.asarray(decoded.image).min() == np.asarray(decoded.image).max() == 77  # a box filter keeps a flat image flat


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "1", "I;16", "LA", "CMYK"])
def test_every_mode_shrinks_to_rgb_or_grey(mode):
    image = Image.new("RGB", (1500, 1000), (200, 40, 40)).convert(mode)
    fmt = "TIFF" if mode in ("I;16", "CMYK") else "PNG"
    decoded = decode_image(encoded(image, fmt))
    assert max(decoded.image.size) == DEFAULT_MAX_SIDE and decoded.image.mode in ("RGB", "L")
    assert (decoded.width, decoded.height) == (1500, 1000)


def test_jpeg_decodes_at_a_reduced_scale_in_draft_mode():
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (4000, 3000, 3), dtype=np.uint8))
    decoded = decode_image(encoded(image, "JPEG", quality=80))
    assert decoded.image.size == (384, 512) and (decoded.width, decoded.height) == (3000, 4000)


def test_exif_rotation_applies_to_the_shrunk_image():
    image = Image.new("RGB", (2000, 1000), "white")
    image.paste((0, 0, 0), (0, 0, 1000, 1000))  # left half black
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    decoded = decode_image(encoded(image, "JPEG", exif=exif))
    assert decoded.image.size == (256, 512) and (decoded.width, decoded.height) == (1000, 2000)
    pixels = np.asarray(decoded.image.convert("L"))
    assert pixels[:200].mean() < 30 and pixels[-200:].mean() > 220  # the black half is now on top


def test_max_side_none_keeps_full_size():
    assert decode_image(encoded(Image.new("L", (700, 600))), max_side=None).image.size == (700, 600)


def test_the_gate_is_held_while_each_image_decodes():
    seen = []

    class Gate:
        def __init__(self, pixels, size):
            seen.append((pixels, size))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            seen.append("released")

    from retrieval.engine import images

    data, previous = encoded(Image.new("L", (600, 400))), images._decode_gate
    set_decode_gate(lambda pixels, size: Gate(pixels, size))
    try:
        decode_image(data)
    finally:
        set_decode_gate(previous)
    assert seen == [(240_000, len(data)), "released"]
