"""The robust descriptor: the descriptor CNN trained with degraded images as augmentation
(every degradation of ``degrade.DEGRADATIONS``, strengths varied), so that a noisy, blurred,
low-resolution or JPEG query lands near its clean neighbours. By default it fine-tunes the
descriptor serving the gallery, which takes minutes on a CPU instead of the better part of
an hour. Its checkpoint is an ordinary descriptor checkpoint with its own index.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from retrieval.engine.config import DescriptorTrainConfig
from retrieval.engine.data import fashion_mnist
from retrieval.engine.degraded.degradations import InvalidDegradation, parse_names, random_degradations
from retrieval.engine.errors import InvalidConfig, NotReady
from retrieval.engine.options import option
from retrieval.engine.training.callbacks import TrainingCallback, TrainResult
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer


@dataclass(frozen=True)
class RobustDescriptorTrainConfig(DescriptorTrainConfig):
    epochs: int = field(default=4, metadata=option("passes over the training images"))
    lr: float = field(default=1e-3, metadata=option("peak of the one-cycle schedule", title="learning rate"))
    degrade_share: float = field(default=0.5, metadata=option(
        "share of training images degraded (noise, blur, low resolution, JPEG at varied strengths)"))
    degradations: str = field(default="all", metadata=option(
        "degradations to train with, comma-separated, or all", advanced=True))
    fine_tune: bool = field(default=True, metadata=option("start from a trained descriptor (off: from scratch)"))
    init_from: str | None = field(default=None, metadata=option(
        "descriptor checkpoint to fine-tune (blank: the one serving the gallery)", advanced=True))

    def errors(self) -> list[str]:
        errors = super().errors()
        if not 0 <= self.degrade_share <= 1:
            errors.append("degrade share must be between 0 and 1")
        try:
            parse_names(self.degradations)
        except InvalidDegradation as error:
            errors.append(f"degradations: {error}")
        return errors


class DegradeAugment:
    """A batch transform for ``train_descriptor``: degrades a random share of each normalised
    batch, drawing everything from the trainer's torch generator (reproducible runs)."""

    def __init__(self, names: tuple[str, ...], share: float):
        self.names, self.share = names, share

    def __call__(self, x: torch.Tensor, mean: float, std: float, generator: torch.Generator) -> torch.Tensor:
        chosen = torch.rand(len(x), generator=generator) < self.share
        if not chosen.any():
            return x
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        images = (x[chosen.to(x.device), 0] * std + mean).clamp(0, 1).detach().cpu().numpy()
        degraded = torch.from_numpy(random_degradations(images, self.names, rng)).to(x.device)
        x = x.clone()
        x[chosen.to(x.device), 0] = (degraded - mean) / std
        return x


def init_checkpoint(config: RobustDescriptorTrainConfig, context: TrainContext) -> dict | None:
    """The descriptor checkpoint to fine-tune, checked to match the configured architecture."""
    if not config.fine_tune:
        return None
    path = Path(config.init_from) if config.init_from else context.descriptor_path
    if path is None or not Path(path).is_file():
        raise NotReady(f"The descriptor checkpoint to fine-tune was not found ({path}); "
                       "train one first or turn fine-tune off.")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if checkpoint.get("family", "cnn") != "cnn" or checkpoint.get("arch") != config.arch:
        raise InvalidConfig([f"{Path(path).name} holds a {checkpoint.get('arch')!r} network, not {config.arch!r}: "
                             "choose the matching architecture"], {"arch": ["does not match the checkpoint"]})
    return checkpoint


def fine_tune_descriptor(config, context: TrainContext, callback: TrainingCallback, batch_transform) -> TrainResult:
    """Fine-tune the serving descriptor (or train afresh) on Fashion-MNIST with ``batch_transform``
    as the augmentation: the robust and the photo descriptor differ only in that transform."""
    from retrieval.engine.training.descriptor import train_descriptor

    init = init_checkpoint(config, context)
    train_images, train_labels = fashion_mnist.load_split(context.data_dir, "train")
    eval_images, eval_labels = fashion_mnist.load_split(context.data_dir, "test")
    return train_descriptor(config, train_images=train_images, train_labels=train_labels, eval_images=eval_images,
                            eval_labels=eval_labels, classes=fashion_mnist.CLASS_NAMES, out_path=context.out_path,
                            callback=callback, init=init, batch_transform=batch_transform)


def run_robust_training(config: RobustDescriptorTrainConfig, context: TrainContext,
                        callback: TrainingCallback) -> TrainResult:
    transform = DegradeAugment(parse_names(config.degradations), config.degrade_share)
    return fine_tune_descriptor(config, context, callback, transform)


register_trainer(TrainerSpec(
    name="robust_descriptor", title="Robust descriptor",
    description="The descriptor CNN fine-tuned with noisy, blurred, low-resolution and JPEG images as augmentation, "
                "for degraded queries (the degraded-query page's robust mode).",
    config_cls=RobustDescriptorTrainConfig, run=run_robust_training, dataset="fashion-mnist", produces="descriptor",
    quick={"epochs": 1, "batch_size": 64, "subset": 200, "eval_queries": 100, "augment": False, "device": "cpu",
           "fine_tune": False},
    checkpoint_name=lambda config: "descriptor-robust.pt",
))
