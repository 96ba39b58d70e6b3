"""Training images of the composite models: Fashion-MNIST (28 px padded to 32, greyscale, white
on black) or the Tux Paint stamps gallery's own files (64 px colour on white), as float32
[N, C, S, S] in [0, 1]; and the stamps' augmentation (flips, small shifts and scalings on white)."""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..data.fashion_mnist import load_split
from .fits import Framed, centred_box

SIZES = {"fashion-mnist": (32, 1, 0.0), "tuxpaint-stamps": (64, 3, 1.0)}  # side, channels, background
REPO = Path(__file__).resolve().parents[3]
STAMPS_MEDIA = REPO / "media" / "galleries" / "tuxpaint-stamps"


def gallery_shape(gallery: str) -> tuple[int, int, float]:
    """(side, channels, background value) the composite models use for ``gallery``."""
    return SIZES[gallery]


def to_array(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """A PIL image as the models see it: [C, S, S] float32 in [0, 1]. A 28 px greyscale image is
    padded to 32 (Fashion-MNIST's black border); anything else is resized to S x S."""
    image = image.convert("L" if channels == 1 else "RGB")
    if channels == 1 and image.size == (28, 28) and size == 32:
        array = np.pad(np.asarray(image, np.float32) / 255.0, 2)
    else:
        array = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255.0
    return (array[None] if array.ndim == 2 else array.transpose(2, 0, 1)).astype(np.float32)


def to_framed(image: Image.Image, size: int, channels: int, background: float) -> Framed | None:
    """A non-square image fitted into the S x S square at its own aspect ratio, centred on the
    ``background`` colour, and where it lies; None for an image within 2% of square (the squeezed
    square is then the same picture)."""
    w, h = image.size
    if abs(w / h - 1) <= 0.02:
        return None
    box = centred_box(w / h, size)
    mode = "L" if channels == 1 else "RGB"
    square = Image.new(mode, (size, size), (round(255 * background),) * (1 if channels == 1 else 3))
    square.paste(image.convert(mode).resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.BILINEAR), box[:2])
    return Framed(to_array(square, size, channels), box)


def fmnist_images(data_dir: Path, split: str = "train", limit: int | None = None) -> np.ndarray:
    images, _ = load_split(data_dir, split, limit)
    return np.pad(images.astype(np.float32) / 255.0, ((0, 0), (2, 2), (2, 2)))[:, None]


def stamp_images(folder: Path | str | None = None) -> np.ndarray:
    folder = Path(folder) if folder else STAMPS_MEDIA
    folder = folder if folder.is_absolute() else REPO / folder
    files = sorted(folder.glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no PNG images in {folder}: import the stamps gallery first (make setup)")
    out = []
    for path in files:
        with Image.open(path) as image:
            out.append(to_array(image, 64, 3))
    return np.stack(out)


def training_images(gallery: str, data_dir: Path, folder: str | None, subset: int | None, seed: int) -> np.ndarray:
    images = fmnist_images(data_dir) if gallery == "fashion-mnist" else stamp_images(folder)
    if subset is not None and subset < len(images):
        images = images[np.sort(np.random.default_rng(seed).permutation(len(images))[:subset])]
    return images


def augment(batch: torch.Tensor, generator: torch.Generator, background: float) -> torch.Tensor:
    """Random horizontal flips and an affine scale (0.85-1.1) and shift (up to 8%), filled with
    the background colour."""
    n = len(batch)
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
    scale = 0.85 + 0.25 * torch.rand(n, generator=generator)
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 0.16
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    out = F.grid_sample(batch - background, grid, align_corners=False, padding_mode="zeros") + background
    return out.clamp(0, 1)
