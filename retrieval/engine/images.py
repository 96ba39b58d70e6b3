"""Safe decoding of untrusted image bytes into upright 8-bit RGB or greyscale Pillow images.

Every rule for odd input lives here: empty or corrupt files, SVG, decompression bombs,
animated images (first frame), transparency and palettes (composited on white), CMYK and
16-bit images (converted), EXIF rotation. Anything refused raises an ``InvalidImage``
subclass whose message can be shown to a user as it is.
"""

import contextlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageTooLarge, InvalidImage, UnsupportedImage

DEFAULT_MAX_PIXELS = 40_000_000
# The largest side a decoded query keeps: the descriptor sees 28 px, sketches are drawn on a
# 280 px canvas, histograms need a few thousand pixels. Everything above is decoded once and shrunk.
DEFAULT_MAX_SIDE = 512
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "I", "F", "CMYK"}
_EXIF_ORIENTATION = 0x0112
_T = Image.Transpose
_TRANSPOSE = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE,
              6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90}
_SWAPS = {5, 6, 7, 8}  # orientations that swap width and height


def _no_gate(pixels: int, size: int):
    return contextlib.nullcontext()


# The web layer installs an admission gate (``set_decode_gate``) so that a flood of large
# images waits or is refused before it is decoded; the engine alone decodes freely.
_decode_gate = _no_gate


def set_decode_gate(gate) -> None:
    """``gate(pixels, byte_size)`` returns a context manager held while one image decodes."""
    global _decode_gate
    _decode_gate = gate or _no_gate
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # mode "RGB" or "L"
    format: str  # the container's format as Pillow names it, e.g. "PNG"
    frames: int  # >1 for animated images; only the first is used
    width: int = 0  # the image's own size (after EXIF rotation), before it was shrunk to decode
    height: int = 0

    @property
    def is_colour(self) -> bool:
        return self.image.mode == "RGB"


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int | None = DEFAULT_MAX_SIDE) -> DecodedImage:
    """Decode untrusted bytes, shrunk on the way so that no side exceeds ``max_side`` (None:
    full size). JPEG decodes at 1/2, 1/4 or 1/8 scale directly (draft mode); other formats are
    reduced by an integer box filter right after decoding, before any conversion, so a large
    image costs one decode of its pixels and nothing more. A long thin image stays long and
    thin (40000x1 becomes 512x1): nothing squares it at full size."""
    if not data:
        raise InvalidImage("The file is empty.")
    if _looks_like_svg(data):
        raise UnsupportedImage("SVG drawings are not supported: export the drawing as PNG or JPEG.")
    with warnings.catch_warnings():
        # Pillow only warns below twice its own bomb limit; we check the size ourselves.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _open(data)
        width, height = img.size
        if width < 1 or height < 1:
            raise InvalidImage("The image has no pixels.")
        if width * height > max_pixels:
            raise ImageTooLarge(_too_large_message((width, height), max_pixels))
        fmt, frames = img.format or "unknown", getattr(img, "n_frames", 1)
        with _decode_gate(width * height, len(data)):
            img, orientation = _load_bounded(img, (width, height), max_side)
            img = _transpose(img, orientation)
            img = _to_display_mode(img)
    if orientation in _SWAPS:
        width, height = height, width
    return DecodedImage(image=img, format=fmt, frames=frames, width=width, height=height)


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageTooLarge(_too_large_message(None, DEFAULT_MAX_PIXELS)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidImage("This file is not an image the portal can read (PNG, JPEG, GIF, WebP, BMP, TIFF).") from None


def _load_bounded(img: Image.Image, size: tuple[int, int], max_side: int | None) -> tuple[Image.Image, int]:
    """The first frame, decoded at (about) the smallest size whose sides are >= ``max_side``'s
    bound, then shrunk to fit it; and its EXIF orientation, read once the pixels are decoded
    (a PNG's EXIF may follow its pixels: asking before would decode the image a second time)."""
    try:
        img.seek(0)
        if max_side and max(size) > max_side and img.format == "JPEG":
            scale = max_side / max(size)
            img.draft(img.mode, (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))))
        img.load()
        orientation = _orientation(img)
        return (_shrink(img, max_side) if max_side else img), orientation
    except Image.DecompressionBombError:
        raise ImageTooLarge(_too_large_message(size, DEFAULT_MAX_PIXELS)) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise InvalidImage("The image is truncated or corrupt and cannot be decoded.") from None


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """Fit ``img`` within ``max_side`` x ``max_side``, keeping its aspect ratio (at least 1 px)."""
    w, h = img.size
    if max(w, h) <= max_side:
        return img
    if img.mode not in _REDUCIBLE:  # palette, 1-bit and 16-bit images: to a mode that filters
        img = img.convert("RGBA" if img.mode in ("P", "PA") else "I" if img.mode.startswith("I;16") else "L")
    factor = max(w, h) // max_side
    if factor >= 2:  # a box filter at an integer factor: cheap, and it averages every pixel
        img = img.reduce(factor)
        w, h = img.size
    if max(w, h) > max_side:
        scale = max_side / max(w, h)
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    return img


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except (OSError, ValueError, SyntaxError, TypeError):
        return 1


def _transpose(img: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return img if method is None else img.transpose(method)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head) or b"<!doctype svg" in head


def _too_large_message(size: tuple[int, int] | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1e6:g} megapixels" if max_pixels >= 100_000 else f"{max_pixels:,} pixels"
    if size is None:
        return f"The image is too large to decode safely (the limit is {limit})."
    return f"The image is {size[0]}x{size[1]} pixels, over the limit of {limit}."


def _to_display_mode(img: Image.Image) -> Image.Image:
    """Bring any Pillow mode to 8-bit "RGB" or "L", compositing transparency on white."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _rescale_to_8bit(img)
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        base_mode = "L" if img.mode in ("LA", "La") else "RGB"
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert(base_mode)
    if img.mode in _GREY_MODES:
        return img.convert("L")
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX ...


def _rescale_to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float images: map the values' actual range onto 0..255."""
    values = np.asarray(img, dtype=np.float64)
    if values.ndim == 3:
        values = values[..., 0]
    lo, hi = float(values.min()), float(values.max())
    if mode_is_16bit(img.mode) and hi <= 255 and lo >= 0:
        scaled = values  # already 8-bit values stored wide
    else:
        scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def mode_is_16bit(mode: str) -> bool:
    return mode.startswith("I;16")


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
