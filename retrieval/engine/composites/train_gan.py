"""Trains the composites DCGAN (family ``composites_gan``): the discriminator and the generator
in turn with the standard (non-saturating) GAN loss, Adam 2e-4 / beta1 0.5, noise from N(0, 1).

A fixed noise grid is streamed as samples, so whoever watches sees the same 16 faces of the
gallery sharpen from step to step."""

import math

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.devices import resolve_device
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

from .common import as_tiles, batches, checkpoint_name
from .config import CompositeGANConfig
from .data import gallery_shape, training_images
from .nets import LATENT, Discriminator, Generator, half_state

GRID = 16  # fixed noise vectors in the live sample grid


def train_composite_gan(config: CompositeGANConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
    device = resolve_device(config.device)
    seed_torch(config.seed)
    size, channels, background = gallery_shape(config.gallery)
    images = training_images(config.gallery, context.data_dir, config.folder, config.subset, config.seed)
    shape = {"size": size, "channels": channels, "width": config.width, "nz": LATENT}
    net_g, net_d = Generator(**shape).to(device), Discriminator(size, channels, config.width).to(device)
    betas = (config.beta1, 0.999)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(net_d.parameters(), lr=config.lr, betas=betas)
    rng = torch.Generator().manual_seed(config.seed)
    fixed = torch.randn(GRID, LATENT, generator=torch.Generator().manual_seed(config.seed + 1)).to(device)
    steps_per_epoch = math.ceil(len(images) / config.batch_size)
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))
    history = []
    for epoch in range(1, config.epochs + 1):
        sums: dict[str, float] = {}
        for batch in batches(images, config, rng, background, config.gallery == "tuxpaint-stamps"):
            noise = config.instance_noise * (1 - clock.step / clock.total_steps)
            losses = _gan_step(net_g, net_d, opt_g, opt_d, batch.to(device), rng, 1 - config.label_smoothing, noise)
            sums = {k: sums.get(k, 0.0) + v for k, v in losses.items()}
            info = clock.tick(epoch=epoch, batch_size=len(batch), losses=losses)
            if info.step % config.sample_every == 0 or info.step == clock.total_steps:
                callback.on_samples(step=info.step, images=_samples(net_g, fixed))
        metrics = {f"mean_{k}": round(v / steps_per_epoch, 4) for k, v in sums.items()}
        history.append({"epoch": epoch, **metrics})
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))
    checkpoint = {"family": "composites_gan", "gallery": config.gallery, "shape": shape, "config": config.to_dict(),
                  "generator": half_state(net_g), "discriminator": half_state(net_d), "metrics": history[-1],
                  "trained_at": utc_now(), "train_images": len(images)}
    result = TrainResult(checkpoint=str(context.out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(context.out_path, checkpoint, {"config": config.to_dict(), "history": history, "final": history[-1],
                                                   "seconds": result.seconds, "device": result.device,
                                                   "train_images": len(images), "trained_at": checkpoint["trained_at"]})
    callback.on_finish(result)
    return result


def _gan_step(net_g, net_d, opt_g, opt_d, real: torch.Tensor, rng: torch.Generator, real_target: float,
              noise: float) -> dict[str, float]:
    z = torch.randn(len(real), LATENT, generator=rng).to(real.device)
    fake = net_g(z)

    def noisy(x):
        return x + noise * torch.randn(x.shape, generator=rng).to(x.device) if noise > 0 else x

    d_real, d_fake = net_d(noisy(real)), net_d(noisy(fake.detach()))
    loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_target))
              + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d_fake = net_d(noisy(fake))
    loss_g = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"D": round(loss_d.item(), 4), "G": round(loss_g.item(), 4),
            "D_real": round(torch.sigmoid(d_real).mean().item(), 4), "D_fake": round(torch.sigmoid(d_fake).mean().item(), 4)}


@torch.inference_mode()
def _samples(net_g, fixed: torch.Tensor) -> list[np.ndarray]:
    net_g.eval()
    out = as_tiles(net_g(fixed))
    net_g.train()
    return out


register_trainer(TrainerSpec(
    name="composites_gan", title="Composites DCGAN",
    description="A DCGAN (latent 100, 4x4 transposed convolutions with batch norm and ReLU, tanh; a discriminator of "
                "4x4 stride-2 convolutions with LeakyReLU 0.2) learns the gallery: the first half of Kundu & Dutta's "
                "GAN + autoencoder. A fixed noise grid is shown as it trains.",
    config_cls=CompositeGANConfig, run=train_composite_gan, dataset="fashion-mnist", produces="composites_gan",
    generative=True, quick={"epochs": 1, "batch_size": 16, "subset": 48, "width": 8, "sample_every": 2, "device": "cpu"},
    checkpoint_name=lambda config: checkpoint_name("gan", config.gallery),
))
