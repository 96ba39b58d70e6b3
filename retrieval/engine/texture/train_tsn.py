"""Stage 1: trains the texture synthesis network through the training centre.

Each step takes 2k x 2k crops of the textures' training regions (never the test region);
the generator expands each crop's central k x k patch back to 2k x 2k, against a PatchGAN,
with the vanilla GAN loss + L1 (weight 100) + style (Gram matrices; the paper's weight 1, here
0.002 for EfficientNet-Lite's larger Gram matrices); Adam beta1 0.5 (5e-4, the paper 2e-4).
Streams a grid of patches, their expansions and the real 2k crops as samples.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.config import DEVICES, TrainConfig, common_errors
from retrieval.engine.devices import resolve_device
from retrieval.engine.options import option
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

from .patterns import load_textures
from .regions import CROP, training_crops
from .tsn import PatchDiscriminator, StyleFeatures, TSNGenerator, style_loss, to_uint8, to_unit

SAMPLES = 8


@dataclass(frozen=True)
class TSNTrainConfig(TrainConfig):
    epochs: int = field(default=24, metadata=option("passes; each draws fresh crops"))
    crops_per_class: int = field(default=16, metadata=option("2k x 2k training-region crops per texture per epoch"))
    batch_size: int = field(default=8, metadata=option("crops per optimisation step"))
    lr: float = field(default=5e-4, metadata=option("Adam learning rate (the paper: 2e-4)", title="learning rate"))
    beta1: float = field(default=0.5, metadata=option("Adam beta1", advanced=True))
    l1_weight: float = field(default=100.0, metadata=option("weight of the L1 term"))
    # The paper's 1 is set for VGG-19's Gram matrices; EfficientNet-Lite's early activations give a
    # style term of about 1,000 against 100 x L1 of about 30, so at 1 the style term drowned the L1
    # term (expansions of one colourless high-frequency pattern, sample L1 0.47); 0.002 brings it under.
    style_weight: float = field(default=0.002, metadata=option("weight of the Gram-matrix style term (the paper: 1)"))
    channels: int = field(default=16, metadata=option("generator width c (the reference: 64)", advanced=True))
    blocks: int = field(default=2, metadata=option("residual blocks (the reference: 6)", advanced=True))
    textures: int | None = field(default=None, metadata=option("only the first N textures (blank: all)", advanced=True))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))

    def errors(self) -> list[str]:
        errors = common_errors(self)
        if self.crops_per_class < 1:
            errors.append("crops per class must be at least 1")
        if self.batch_size < 2:
            errors.append("batch size must be at least 2 (batch norm needs two crops)")
        if self.channels < 2 or self.blocks < 0:
            errors.append("channels must be at least 2 and blocks at least 0")
        if self.textures is not None and self.textures < 2:
            errors.append("textures must be at least 2")
        return errors


def centre(crops: torch.Tensor, k: int = CROP) -> torch.Tensor:
    offset = (crops.shape[-1] - k) // 2
    return crops[..., offset:offset + k, offset:offset + k]


def train_tsn(config: TSNTrainConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
    device = resolve_device(config.device)
    seed_torch(config.seed)
    textures = load_textures(context.data_dir, limit=config.textures)
    net_g = TSNGenerator(config.channels, config.blocks).to(device)
    net_d = PatchDiscriminator(config.channels).to(device)
    style = StyleFeatures().to(device)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    held = to_unit(training_crops(textures, 1, seed=999, crop=2 * CROP).images[:: max(1, len(textures) // SAMPLES)][:SAMPLES])
    per_epoch = len(textures) * config.crops_per_class
    steps_per_epoch = math.ceil(per_epoch / config.batch_size)
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))
    rng = np.random.default_rng(config.seed)
    history = []
    for epoch in range(1, config.epochs + 1):
        net_g.train()
        net_d.train()
        crops = to_unit(training_crops(textures, config.crops_per_class, seed=int(rng.integers(1 << 30)), crop=2 * CROP).images)
        for batch in torch.randperm(len(crops), generator=torch.Generator().manual_seed(epoch)).split(config.batch_size):
            if len(batch) < 2:
                continue
            real = crops[batch].to(device)
            losses = _step(net_g, net_d, style, opt_g, opt_d, real, config)
            clock.tick(epoch=epoch, batch_size=len(batch), losses=losses)
        grid, l1 = _samples(net_g, held.to(device))
        history.append({"epoch": epoch, "sample_l1": l1})
        callback.on_samples(step=clock.step, images=grid)
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics={"sample_l1": l1}))
    checkpoint = {"family": "texture_tsn", "net_kwargs": {"channels": config.channels, "blocks": config.blocks},
                  "state_dict": {k: v.detach().cpu().half() if v.is_floating_point() else v.cpu()
                                 for k, v in net_g.state_dict().items()},
                  "config": config.to_dict(), "metrics": history[-1], "trained_at": utc_now(), "crop": CROP,
                  "textures": len(textures)}
    result = TrainResult(checkpoint=str(context.out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(context.out_path, checkpoint, {"config": config.to_dict(), "history": history, "final": history[-1],
                                                   "seconds": result.seconds, "device": result.device,
                                                   "textures": len(textures), "trained_at": checkpoint["trained_at"]})
    callback.on_finish(result)
    return result


def _step(net_g, net_d, style, opt_g, opt_d, real, config) -> dict[str, float]:
    fake = net_g(centre(real))
    d_real, d_fake = net_d(real), net_d(fake.detach())
    loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d_fake = net_d(fake)
    terms = {"gan": F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake)),
             "l1": F.l1_loss(fake, real), "style": style_loss(style, fake, real)}
    loss_g = terms["gan"] + config.l1_weight * terms["l1"] + config.style_weight * terms["style"]
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"d": round(loss_d.item(), 4), **{k: round(v.item(), 4) for k, v in terms.items()}}


@torch.inference_mode()
def _samples(net_g, held: torch.Tensor) -> tuple[np.ndarray, float]:
    """Rows: the k x k patch (shown at 2x), its expansion, the real 2k crop."""
    net_g.eval()
    fake = net_g(centre(held))
    l1 = round(F.l1_loss(fake, held).item(), 4)
    patch = F.interpolate(centre(held), scale_factor=2, mode="nearest")
    return np.concatenate([to_uint8(patch), to_uint8(fake), to_uint8(held)]), l1


register_trainer(TrainerSpec(
    name="texture_tsn", title="Texture synthesis network",
    description="Stage 1 of texture hashing: expands a 32 px texture patch to 64 px (adversarial + 100 L1 + "
                "Gram style loss on EfficientNet-Lite0's early stages), trained on the textures' training regions.",
    config_cls=TSNTrainConfig, run=train_tsn, dataset="textures", produces="texture_tsn", generative=True,
    quick={"epochs": 1, "crops_per_class": 2, "batch_size": 4, "textures": 4, "device": "cpu"},
    checkpoint_name=lambda config: "texture-tsn.pt",
))
