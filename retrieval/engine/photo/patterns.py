"""GIMP's ``.pat`` patterns (Debian ``gimp-data`` and ``gimp-data-extras``), read without GIMP.

A pattern file is a big-endian header of six 32-bit words (header size, version, width,
height, bytes per pixel, the magic ``GPAT``), the pattern's name (UTF-8, NUL-terminated,
filling the rest of the header), then width x height x bytes-per-pixel raw pixels (1 grey,
2 grey + alpha, 3 RGB, 4 RGBA).
"""

import struct
from pathlib import Path

import numpy as np

GIMP_PATTERN_DIR = Path("/usr/share/gimp/2.0/patterns")
MAGIC = b"GPAT"


class InvalidPattern(ValueError):
    """Not a GIMP pattern file, or one whose sizes do not add up."""


def read_pattern(data: bytes) -> tuple[str, np.ndarray]:
    """(name, RGB uint8 [H, W, 3]) of a ``.pat`` file's bytes; alpha is dropped (composited on grey)."""
    if len(data) < 24:
        raise InvalidPattern("too short for a GIMP pattern header")
    header_size, version, width, height, depth = struct.unpack(">5I", data[:20])
    if data[20:24] != MAGIC or version != 1 or depth not in (1, 2, 3, 4) or header_size < 24:
        raise InvalidPattern("not a GIMP pattern (bad magic, version or depth)")
    body = data[header_size:header_size + width * height * depth]
    if width == 0 or height == 0 or len(body) != width * height * depth:
        raise InvalidPattern("the pixel data does not match the header's size")
    name = data[24:header_size].split(b"\0", 1)[0].decode("utf-8", "replace")
    pixels = np.frombuffer(body, np.uint8).reshape(height, width, depth)
    colour = pixels[..., :1 if depth <= 2 else 3]
    if depth in (2, 4):  # alpha over mid-grey, so a cut-out pattern still shows its shape
        alpha = pixels[..., -1:].astype(np.float32) / 255.0
        colour = np.rint(colour * alpha + 128 * (1 - alpha)).astype(np.uint8)
    return name, np.repeat(colour, 3, axis=2) if colour.shape[2] == 1 else np.ascontiguousarray(colour)


def write_pattern(name: str, pixels: np.ndarray) -> bytes:
    """The ``.pat`` bytes of uint8 pixels [H, W] or [H, W, C] (the inverse of ``read_pattern``)."""
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    height, width, depth = pixels.shape
    encoded = name.encode("utf-8") + b"\0"
    header = struct.pack(">5I", 24 + len(encoded), 1, width, height, depth) + MAGIC + encoded
    return header + np.ascontiguousarray(pixels, np.uint8).tobytes()


def load_patterns(folder: Path = GIMP_PATTERN_DIR, min_side: int = 32) -> list[tuple[str, np.ndarray]]:
    """Every readable pattern in ``folder`` at least ``min_side`` px each way, sorted by file name."""
    found = []
    for path in sorted(Path(folder).rglob("*.pat")) if Path(folder).is_dir() else []:
        try:
            name, pixels = read_pattern(path.read_bytes())
        except InvalidPattern:
            continue
        if min(pixels.shape[:2]) >= min_side:
            found.append((str(path.relative_to(folder).with_suffix("")), pixels))
    return found
