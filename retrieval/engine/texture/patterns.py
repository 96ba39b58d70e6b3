"""GIMP ``.pat`` patterns and scikit-image's bundled textures: one class per texture.

A ``.pat`` file (GIMP's pattern format, version 1) is a big-endian header of six 32-bit
fields -- header size, version, width, height, bytes per pixel (1 grey, 2 grey + alpha,
3 RGB, 4 RGBA), the magic ``GPAT`` -- then the pattern's name (UTF-8, NUL-terminated,
filling the header up to its size), then width x height x bpp raw bytes, row by row.
Version 1 patterns carry no spacing field (brushes do); other versions are refused.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InvalidImage

GIMP_PATTERNS = Path("/usr/share/gimp/2.0/patterns")
SKIMAGE_TEXTURES = ("brick", "grass", "gravel")
HEADER = struct.Struct(">5I4s")
MAGIC = b"GPAT"
TEXTURE_SIZE = 128  # every texture is resized to this square before it is split into 4 regions


class InvalidPattern(InvalidImage):
    """Not a readable GIMP pattern (bad magic, version, size or truncated pixels)."""


@dataclass(frozen=True)
class Pattern:
    name: str
    pixels: np.ndarray  # uint8 [H, W, bpp]


@dataclass(frozen=True)
class Texture:
    name: str  # the class name
    source: str  # "gimp:<relative path>" or "skimage:<name>"
    image: np.ndarray  # uint8 RGB [TEXTURE_SIZE, TEXTURE_SIZE, 3]


def read_pat(data: bytes) -> Pattern:
    """Decode one ``.pat`` file's bytes."""
    if len(data) < HEADER.size:
        raise InvalidPattern("too short for a GIMP pattern header")
    header_size, version, width, height, bpp, magic = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise InvalidPattern(f"bad magic {magic!r} (expected {MAGIC!r})")
    if version != 1:
        raise InvalidPattern(f"unsupported pattern version {version}")
    if bpp not in (1, 2, 3, 4) or not (0 < width <= 8192 and 0 < height <= 8192):
        raise InvalidPattern(f"bad pattern geometry {width}x{height}x{bpp}")
    if header_size < HEADER.size or header_size > len(data):
        raise InvalidPattern(f"bad header size {header_size}")
    name = data[HEADER.size:header_size].split(b"\0", 1)[0].decode("utf-8", "replace")
    count = width * height * bpp
    raw = data[header_size:header_size + count]
    if len(raw) < count:
        raise InvalidPattern(f"truncated pixels: {len(raw)} of {count} bytes")
    return Pattern(name=name, pixels=np.frombuffer(raw, np.uint8).reshape(height, width, bpp).copy())


def write_pat(pattern: Pattern) -> bytes:
    """Encode a pattern as a version-1 ``.pat`` file (tests; the inverse of ``read_pat``)."""
    height, width, bpp = pattern.pixels.shape
    name = pattern.name.encode() + b"\0"
    return HEADER.pack(HEADER.size + len(name), 1, width, height, bpp, MAGIC) + name + pattern.pixels.tobytes()


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """uint8 [H, W, bpp] -> RGB [H, W, 3]; alpha is composited over mid grey."""
    bpp = pixels.shape[2]
    colour = pixels[..., :1].repeat(3, 2) if bpp in (1, 2) else pixels[..., :3]
    if bpp in (2, 4):
        alpha = pixels[..., -1:].astype(np.float32) / 255.0
        colour = (colour * alpha + 128 * (1 - alpha)).round().astype(np.uint8)
    return np.ascontiguousarray(colour)


def square(rgb: np.ndarray, size: int = TEXTURE_SIZE) -> np.ndarray:
    """Resize to size x size (the paper's "resize" step; bicubic)."""
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.BICUBIC))


def gimp_textures(folder: Path | str = GIMP_PATTERNS, size: int = TEXTURE_SIZE) -> list[Texture]:
    folder = Path(folder)
    textures = []
    for path in sorted(folder.rglob("*.pat")):
        pattern = read_pat(path.read_bytes())
        relative = path.relative_to(folder).with_suffix("").as_posix()
        textures.append(Texture(name=relative, source=f"gimp:{relative}", image=square(to_rgb(pattern.pixels), size)))
    return textures


def skimage_textures(size: int = TEXTURE_SIZE) -> list[Texture]:
    import skimage.data

    return [Texture(name=f"skimage/{name}", source=f"skimage:{name}",
                    image=square(to_rgb(getattr(skimage.data, name)()[..., None]), size))
            for name in SKIMAGE_TEXTURES]


def load_textures(folder: Path | str = GIMP_PATTERNS, *, limit: int | None = None, size: int = TEXTURE_SIZE) -> list[Texture]:
    """Every GIMP pattern under ``folder`` and scikit-image's brick, grass and gravel, in a
    fixed order (``limit``: the first N, for tests)."""
    textures = gimp_textures(folder, size) + skimage_textures(size)
    return textures[:limit] if limit else textures
