"""The photo descriptor: the descriptor CNN fine-tuned on gallery items made into photos
(``augment.TRAIN_STYLE``: coloured, shaded, scaled and moved on the training background kinds,
JPEG-compressed) and brought back through the query normalisation, beside clean items, so
that a shop photo lands near its kind and a gallery-style query stays where it was. Its
checkpoint is an ordinary descriptor checkpoint with its own index.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from retrieval.engine.config import DescriptorTrainConfig
from retrieval.engine.degraded.train_robust import fine_tune_descriptor
from retrieval.engine.options import option
from retrieval.engine.photo.augment import TRAIN_STYLE, PhotoStyle, photo_batch
from retrieval.engine.photo.backgrounds import HELD_OUT_KINDS, TRAIN_KINDS
from retrieval.engine.training.callbacks import TrainingCallback, TrainResult
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer


@dataclass(frozen=True)
class PhotoDescriptorTrainConfig(DescriptorTrainConfig):
    epochs: int = field(default=3, metadata=option("passes over the training images"))
    lr: float = field(default=5e-4, metadata=option("peak of the one-cycle schedule", title="learning rate"))
    photo_share: float = field(default=0.6, metadata=option(
        "share of training images made into photos (the rest stay clean, so gallery-style queries keep their place)"))
    fine_tune: bool = field(default=True, metadata=option("start from a trained descriptor (off: from scratch)"))
    init_from: str | None = field(default=None, metadata=option(
        "descriptor checkpoint to fine-tune (blank: the one serving the gallery)", advanced=True))

    def errors(self) -> list[str]:
        errors = super().errors()
        if not 0 <= self.photo_share <= 1:
            errors.append("photo share must be between 0 and 1")
        return errors


class PhotoAugment:
    """A batch transform for ``train_descriptor``: a share of each normalised batch is made
    into photos and normalised as queries are, drawn from the trainer's torch generator."""

    def __init__(self, share: float, style: PhotoStyle = TRAIN_STYLE):
        self.share, self.style = share, style

    def __call__(self, x: torch.Tensor, mean: float, std: float, generator: torch.Generator) -> torch.Tensor:
        chosen = torch.rand(len(x), generator=generator) < self.share
        if not chosen.any():
            return x
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        items = (x[chosen.to(x.device), 0] * std + mean).clamp(0, 1).mul(255).round().byte().cpu().numpy()
        photos = photo_batch(items, self.style, rng, size=x.shape[-1])
        x = x.clone()
        x[chosen.to(x.device), 0] = (torch.from_numpy(photos).to(x.device).float() / 255.0 - mean) / std
        return x


def run_photo_training(config: PhotoDescriptorTrainConfig, context: TrainContext,
                       callback: TrainingCallback) -> TrainResult:
    return fine_tune_descriptor(config, context, callback, PhotoAugment(config.photo_share))


register_trainer(TrainerSpec(
    name="photo_descriptor", title="Photo descriptor",
    description="The descriptor CNN fine-tuned on gallery items made into shop photos (coloured, shaded, placed on "
                f"{', '.join(TRAIN_KINDS)} backgrounds, JPEG) and normalised as queries are; "
                f"{', '.join(HELD_OUT_KINDS)} backgrounds are kept for the evaluation.",
    config_cls=PhotoDescriptorTrainConfig, run=run_photo_training, dataset="fashion-mnist", produces="descriptor",
    quick={"epochs": 1, "batch_size": 32, "subset": 60, "eval_queries": 50, "augment": False, "device": "cpu",
           "fine_tune": False},
    checkpoint_name=lambda config: "descriptor-photo.pt",
))
