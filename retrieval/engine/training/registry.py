"""Every trainable model family, registered once and run by name.

A family registers a ``TrainerSpec``: its configuration dataclass and a ``run(config,
context, callback)`` that loads its own data from ``context.data_dir``, reports through the
callback and writes its checkpoint to ``context.out_path`` atomically. The command line,
the in-process worker and the external worker all call the same ``run``.

This module is a leaf: the package's ``__init__`` imports every trainer module, so none is
forgotten and none imports back into a half-built registry.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..options import build_config
from ..registry import Registry
from .callbacks import TrainingCallback, TrainResult


@dataclass(frozen=True)
class TrainContext:
    """Plain paths a trainer needs; where they point is the caller's business."""

    data_dir: Path  # the folder of the family's dataset (see TrainerSpec.dataset)
    out_path: Path  # the checkpoint to write
    descriptor_path: Path | None = None  # the descriptor serving the gallery (for families that learn its space)


@dataclass(frozen=True)
class TrainerSpec:
    name: str
    title: str
    description: str
    config_cls: type
    run: Callable[[Any, TrainContext, TrainingCallback], TrainResult]
    dataset: str  # a dataset name the caller maps to a folder, e.g. "fashion-mnist"
    produces: str = "descriptor"  # what a checkpoint serves as: "descriptor" can be activated for search
    generative: bool = False  # reports sample images through on_samples
    quick: Mapping[str, Any] = field(default_factory=dict)  # overrides for a seconds-long run (tests, demos)
    checkpoint_name: Callable[[Any], str] | None = None  # default file name for a configuration

    def build_config(self, values: Mapping[str, Any]):
        """The family's config from loose values (strings or JSON); raises InvalidConfig."""
        return build_config(self.config_cls, values)

    def default_checkpoint_name(self, config) -> str:
        return self.checkpoint_name(config) if self.checkpoint_name else f"{self.name}.pt"


TRAINERS = Registry("trainer")


def register_trainer(spec: TrainerSpec) -> TrainerSpec:
    TRAINERS.register(spec.name)(spec)
    return spec


def get_trainer(name: str) -> TrainerSpec:
    """The registered family ``name``; KeyError listing the known names otherwise."""
    return TRAINERS.get(name)

