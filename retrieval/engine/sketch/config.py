"""Configurations of the two sketch trainers: the pix2pix GAN and the sketch encoder."""

from dataclasses import dataclass, field

from ..config import DEVICES, TrainConfig, common_errors
from ..options import option
from .pairs import EDGE_METHODS

EDGE_CHOICES = (*EDGE_METHODS, "both")


def _sketch_errors(config) -> list[str]:
    errors = common_errors(config)
    if config.edges not in EDGE_CHOICES:
        errors.append(f"unknown edges {config.edges!r} (choose from {', '.join(EDGE_CHOICES)})")
    return errors


@dataclass(frozen=True)
class SketchGANConfig(TrainConfig):
    """pix2pix: a U-Net turns a sketch into a gallery-style image; a PatchGAN judges pairs."""

    edges: str = field(default="both", metadata=option("edge maps to learn from", choices=EDGE_CHOICES))
    epochs: int = field(default=4, metadata=option("passes over the pairs"))
    batch_size: int = field(default=64, metadata=option("pairs per optimisation step"))
    lr: float = field(default=2e-4, metadata=option("Adam learning rate (pix2pix: 2e-4)", title="learning rate"))
    beta1: float = field(default=0.5, metadata=option("Adam beta1 (pix2pix: 0.5)", advanced=True))
    l1_weight: float = field(default=100.0, metadata=option("weight of the L1 term (pix2pix: 100)", title="L1 weight"))
    ngf: int = field(default=32, metadata=option("generator width (filters in its first layer)", advanced=True))
    subset: int | None = field(default=None, metadata=option("a random subset of N pairs (blank: all)", title="subset size"))
    augment: bool = field(default=True, metadata=option("stroke augmentation: broken strokes, thickness, warps"))
    sample_every: int = field(default=100, metadata=option("steps between live sample grids", advanced=True))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))

    def errors(self) -> list[str]:
        errors = _sketch_errors(self)
        if not 0 <= self.beta1 < 1:
            errors.append("beta1 must be in [0, 1)")
        if not self.l1_weight >= 0:
            errors.append("L1 weight cannot be negative")
        if not 4 <= self.ngf <= 128:
            errors.append("generator width must be between 4 and 128")
        if self.sample_every < 1:
            errors.append("sample every must be at least 1 step")
        return errors


@dataclass(frozen=True)
class SketchEncoderConfig(TrainConfig):
    """A CNN that maps a sketch straight into the gallery descriptor's space: it starts from the
    descriptor's own weights and learns to land where the descriptor puts the sketched image."""

    edges: str = field(default="both", metadata=option("edge maps to learn from", choices=EDGE_CHOICES))
    epochs: int = field(default=8, metadata=option("passes over the pairs"))
    batch_size: int = field(default=256, metadata=option("pairs per optimisation step"))
    lr: float = field(default=2e-3, metadata=option("peak of the one-cycle schedule", title="learning rate"))
    weight_decay: float = field(default=5e-4, metadata=option("AdamW weight decay", advanced=True))
    class_weight: float = field(default=0.5, metadata=option(
        "weight of the class term (the descriptor's own classifier on the sketch's embedding)", advanced=True))
    subset: int | None = field(default=None, metadata=option("a random subset of N pairs (blank: all)", title="subset size"))
    augment: bool = field(default=True, metadata=option("stroke augmentation: broken strokes, thickness, warps"))
    teacher: str | None = field(default=None, metadata=option(
        "descriptor checkpoint whose space to learn (blank: the one serving the gallery)", advanced=True))
    eval_queries: int = field(default=1000, metadata=option("held-out sketches for the per-epoch P@5 check", advanced=True))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))

    def errors(self) -> list[str]:
        errors = _sketch_errors(self)
        if not self.weight_decay >= 0:
            errors.append("weight decay cannot be negative")
        if not self.class_weight >= 0:
            errors.append("class weight cannot be negative")
        if self.eval_queries < 1:
            errors.append("eval queries must be at least 1")
        return errors
