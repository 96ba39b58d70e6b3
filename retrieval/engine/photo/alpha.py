"""A cut-out's alpha channel, read from the upload's bytes: decoding (``engine.images``)
composites transparency on white, which keeps results and explanations simple but loses the
item's own mask. Read only after the upload was decoded under the portal's limits.
"""

import io

from PIL import Image, ImageOps

from .normalise import alpha_band


def read_alpha(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """The upload's alpha channel ("L") at ``size`` (the decoded image's, EXIF rotation
    applied), or None when it has no alpha channel or the bytes cannot be read again."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.mode not in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
                return None
            if img.mode == "P" and "transparency" not in img.info:
                return None
            img.seek(0)
            alpha = alpha_band(ImageOps.exif_transpose(img))
            if alpha is None:
                return None
            return alpha if alpha.size == size else alpha.resize(size, Image.Resampling.BOX)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def with_alpha(image: Image.Image, alpha: Image.Image | None) -> Image.Image:
    """``image`` (RGB or L) with ``alpha`` as its alpha channel, or as it is when there is none."""
    if alpha is None:
        return image
    out = image.convert("RGBA")
    out.putalpha(alpha)
    return out
