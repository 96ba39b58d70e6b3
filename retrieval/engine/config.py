"""Frozen settings objects, built the same way by commands, views and the API."""

from dataclasses import asdict, dataclass, fields

import torch

METRICS = ("l2", "cosine")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DescriptorTrainConfig:
    """Training a classification CNN whose pooled features are the retrieval descriptor."""

    arch: str = "fmnist_cnn"
    epochs: int = 15
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    subset: int | None = None  # train on the first N gallery images (balanced), None for all
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    eval_queries: int = 2000  # held-out queries for the per-epoch P@k check

    def __post_init__(self):
        errors = config_errors(self)
        if errors:
            raise ValueError("; ".join(errors))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "DescriptorTrainConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def config_errors(config: DescriptorTrainConfig) -> list[str]:
    """Every problem with a configuration, as sentences (empty when valid)."""
    from .nets import NETS

    errors = []
    if config.arch not in NETS:
        errors.append(f"unknown architecture {config.arch!r} (choose from {', '.join(NETS.names())})")
    if config.epochs < 1:
        errors.append("epochs must be at least 1")
    if config.batch_size < 1:
        errors.append("batch size must be at least 1")
    if not config.lr > 0:
        errors.append("learning rate must be positive")
    if config.weight_decay < 0:
        errors.append("weight decay cannot be negative")
    if not 0 <= config.label_smoothing < 1:
        errors.append("label smoothing must be in [0, 1)")
    if config.subset is not None and config.subset < 10:
        errors.append("subset must hold at least 10 images")
    if config.device not in DEVICES:
        errors.append(f"unknown device {config.device!r} (choose from {', '.join(DEVICES)})")
    elif config.device == "cuda" and not torch.cuda.is_available():
        errors.append("a GPU (cuda) was asked for, but this machine has none: use cpu or auto")
    return errors
