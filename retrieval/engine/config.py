"""Frozen settings objects, built the same way by commands, views and the API."""

from dataclasses import asdict, dataclass, field, fields

import torch

from .errors import InvalidConfig
from .options import option

METRICS = ("l2", "cosine")
DEVICES = ("auto", "cpu", "cuda")


class TrainConfig:
    """What every trainer's frozen config dataclass shares: validation on construction (every
    problem as a sentence, from ``errors()``), and plain-dict round trips."""

    def __post_init__(self):
        errors = self.errors()
        if errors:
            raise InvalidConfig(errors)

    def errors(self) -> list[str]:
        return []

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def common_errors(config) -> list[str]:
    """Problems with the options most trainers share (those a config lacks are skipped)."""
    has = lambda name: hasattr(config, name)  # noqa: E731
    errors = []
    if has("epochs") and config.epochs < 1:
        errors.append("epochs must be at least 1")
    if has("batch_size") and config.batch_size < 1:
        errors.append("batch size must be at least 1")
    if has("lr") and not config.lr > 0:
        errors.append("learning rate must be positive")
    if has("subset") and config.subset is not None and config.subset < 10:
        errors.append("subset must hold at least 10 images")
    if has("seed") and config.seed < 0:
        errors.append("seed cannot be negative")
    if has("device"):
        if config.device not in DEVICES:
            errors.append(f"unknown device {config.device!r} (choose from {', '.join(DEVICES)})")
        elif config.device == "cuda" and not torch.cuda.is_available():
            errors.append("a GPU (cuda) was asked for, but this machine has none: use cpu or auto")
    return errors


@dataclass(frozen=True)
class DescriptorTrainConfig(TrainConfig):
    """Training a classification CNN whose pooled features are the retrieval descriptor."""

    arch: str = field(default="fmnist_cnn", metadata=option("the network", choices=lambda: _net_names(), title="architecture"))
    epochs: int = field(default=15, metadata=option("passes over the training images"))
    batch_size: int = field(default=256, metadata=option("images per optimisation step"))
    lr: float = field(default=3e-3, metadata=option("peak of the one-cycle schedule", title="learning rate"))
    weight_decay: float = field(default=5e-4, metadata=option("AdamW weight decay", advanced=True))
    label_smoothing: float = field(default=0.1, metadata=option("cross-entropy label smoothing", advanced=True))
    subset: int | None = field(default=None, metadata=option("a balanced subset of N images (blank: all)", title="subset size"))
    augment: bool = field(default=True, metadata=option("random flips, rotations, scaling and shifts"))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))
    eval_queries: int = field(default=2000, metadata=option("held-out queries for the per-epoch P@5 check", advanced=True))

    def errors(self) -> list[str]:
        return config_errors(self)


def _net_names() -> list[str]:
    from .nets import NETS  # imported late: the networks pull in torchvision

    return NETS.names()


def config_errors(config: DescriptorTrainConfig) -> list[str]:
    """Every problem with a configuration, as sentences (empty when valid)."""
    from .nets import NETS

    errors = []
    if config.arch not in NETS:
        errors.append(f"unknown architecture {config.arch!r} (choose from {', '.join(NETS.names())})")
    errors += common_errors(config)
    if not config.weight_decay >= 0:  # NaN included
        errors.append("weight decay cannot be negative")
    if not 0 <= config.label_smoothing < 1:
        errors.append("label smoothing must be in [0, 1)")
    if config.eval_queries < 1:
        errors.append("eval queries must be at least 1")
    return errors
