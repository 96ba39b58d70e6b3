"""Safe decoding of untrusted image bytes into upright 8-bit RGB or greyscale Pillow images.

Every rule for odd input lives here: empty or corrupt files, SVG, decompression bombs,
animated images (first frame), transparency and palettes (composited on white), CMYK and
16-bit images (converted), EXIF rotation. Anything refused raises an ``InvalidImage``
subclass whose message can be shown to a user as it is.
"""

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageTooLarge, InvalidImage, UnsupportedImage

DEFAULT_MAX_PIXELS = 40_000_000
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # mode "RGB" or "L"
    format: str  # the container's format as Pillow names it, e.g. "PNG"
    frames: int  # >1 for animated images; only the first is used

    @property
    def is_colour(self) -> bool:
        return self.image.mode == "RGB"


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    if not data:
        raise InvalidImage("The file is empty.")
    if _looks_like_svg(data):
        raise UnsupportedImage("SVG drawings are not supported: export the drawing as PNG or JPEG.")
    with warnings.catch_warnings():
        # Pillow only warns below twice its own bomb limit; we check the size ourselves.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise ImageTooLarge(_too_large_message(None, max_pixels)) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise InvalidImage("This file is not an image the portal can read (PNG, JPEG, GIF, WebP, BMP, TIFF).") from None
        width, height = img.size
        if width < 1 or height < 1:
            raise InvalidImage("The image has no pixels.")
        if width * height > max_pixels:
            raise ImageTooLarge(_too_large_message((width, height), max_pixels))
        fmt, frames = img.format or "unknown", getattr(img, "n_frames", 1)
        try:
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img)
        except Image.DecompressionBombError:
            raise ImageTooLarge(_too_large_message((width, height), max_pixels)) from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise InvalidImage("The image is truncated or corrupt and cannot be decoded.") from None
    return DecodedImage(image=_to_display_mode(img), format=fmt, frames=frames)


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
