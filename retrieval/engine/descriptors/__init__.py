"""Descriptor families: each turns images into vectors and is loaded from a checkpoint.

A checkpoint names its family; ``load_descriptor`` creates the right one through
``DESCRIPTORS``. Family modules are imported here explicitly so none is forgotten.
"""

from pathlib import Path

import torch

from ..registry import Registry

DESCRIPTORS = Registry("descriptor family")

from . import cnn  # noqa: E402,F401


def load_descriptor(path: Path | str, device: torch.device | str = "cpu"):
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    family = checkpoint.get("family", "cnn")
    return DESCRIPTORS.get(family).from_checkpoint(checkpoint, path=Path(path), device=torch.device(device))
