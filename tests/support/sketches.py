"""Drawings for the sketch tests: what the page's canvas exports (black ink on white, PNG)."""

import io
import struct
import zlib

from PIL import Image, ImageDraw

from tests.conftest import data_url  # noqa: F401  (the sketch tests take it from here)

SIDE = 280  # the page's canvas


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tshirt_png(side: int = SIDE, width: int = 10) -> bytes:
    """A T-shirt outline, as a shopper might draw it."""
    image = Image.new("L", (side, side), 255)
    s = side / SIDE
    outline = [(90, 40), (120, 55), (160, 55), (190, 40), (250, 90), (220, 125), (200, 110), (200, 240), (80, 240),
               (80, 110), (60, 125), (30, 90), (90, 40)]
    ImageDraw.Draw(image).line([(x * s, y * s) for x, y in outline], fill=0, width=max(1, round(width * s)), joint="curve")
    return png(image)


def trousers_png(side: int = SIDE) -> bytes:
    image = Image.new("L", (side, side), 255)
    ImageDraw.Draw(image).line([(100, 30), (180, 30), (200, 250), (150, 250), (140, 100), (130, 250), (80, 250),
                                (100, 30)], fill=0, width=10)
    return png(image)


def blank_png(side: int = SIDE) -> bytes:
    return png(Image.new("RGB", (side, side), "white"))


def long_thin_png(width: int = 30_000, height: int = 400) -> bytes:
    """A drawing of absurd proportions under the pixel limit: one long bar (12 megapixels)."""
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).rectangle([50, height // 4, width - 50, 3 * height // 4], fill=0)
    return png(image)


def huge_header_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A few bytes whose PNG header claims gigapixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))
