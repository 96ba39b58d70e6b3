"""What the composite trainers share: checkpoint names and folder, batches, sample tiles."""

from pathlib import Path

import numpy as np
import torch

from .config import SHORT
from .data import augment

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"


def checkpoint_name(family: str, gallery: str) -> str:
    return f"composites-{family}-{SHORT[gallery]}.pt"


def as_tiles(images: torch.Tensor) -> list[np.ndarray]:
    """[N, C, S, S] in [0, 1] -> uint8 tiles [S, S] or [S, S, 3] for the sample grid."""
    array = (images.detach().clamp(0, 1) * 255).round().byte().cpu().numpy()
    return [a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0) for a in array]


def batches(images: np.ndarray, config, rng: torch.Generator, background: float, stamps: bool):
    data = torch.from_numpy(images)
    for index in torch.randperm(len(data), generator=rng).split(config.batch_size):
        batch = data[index]
        if stamps and config.augment:
            batch = augment(batch, rng, background)
        yield batch
