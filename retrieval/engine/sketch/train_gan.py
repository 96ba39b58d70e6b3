"""Trains the sketch-to-image GAN (pix2pix): adversarial loss plus L1 (weight 100), Adam
(lr 2e-4, beta1 0.5), on stroke-augmented edge maps paired with their gallery images.

Streams a grid of held-out sketches, what the generator makes of them and the real images.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.devices import resolve_device
from retrieval.engine.sketch.config import SketchGANConfig
from retrieval.engine.sketch.normalise import normalise_inks
from retrieval.engine.sketch.pairs import load_training_pairs, sketch_queries
from retrieval.engine.sketch.pix2pix import PatchDiscriminator, UNetGenerator
from retrieval.engine.sketch.strokes import drawn_sketches
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

SAMPLES = 8  # held-out sketches in the live grid
HELD_OUT = 512  # held-out pairs for the per-epoch L1


def _ink(edges: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(edges).to(device)[:, None].float() / 255.0


def train_sketch_gan(config: SketchGANConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
    device = resolve_device(config.device)
    seed_torch(config.seed)
    pairs = load_training_pairs(context.data_dir, config.edges, "train", config.subset, config.seed)
    held = load_training_pairs(context.data_dir, config.edges, "test", HELD_OUT, config.seed)
    held_sketches = torch.from_numpy(normalise_inks(sketch_queries(held.edges) / 255.0))[:, None].to(device)
    held_images = _ink(held.images, device)

    generator_kwargs = {"ngf": config.ngf, "image_size": int(pairs.images.shape[-1])}
    net_g = UNetGenerator(**generator_kwargs).to(device)
    net_d = PatchDiscriminator().to(device)
    betas = (config.beta1, 0.999)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(net_d.parameters(), lr=config.lr, betas=betas)
    images, edges = torch.from_numpy(pairs.images), torch.from_numpy(pairs.edges)
    rng = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = math.ceil(len(pairs) / config.batch_size)
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))

    history = []
    for epoch in range(1, config.epochs + 1):
        net_g.train()
        net_d.train()
        for batch in torch.randperm(len(pairs), generator=rng).split(config.batch_size):
            sketch = drawn_sketches(edges[batch][:, None].float() / 255.0, rng, config.augment)
            sketch, real = sketch.to(device), images[batch].to(device)[:, None].float() / 255.0
            losses = _gan_step(net_g, net_d, opt_g, opt_d, sketch, real, config.l1_weight)
            info = clock.tick(epoch=epoch, batch_size=len(batch), losses=losses)
            if info.step % config.sample_every == 0 or info.step == clock.total_steps:
                callback.on_samples(step=info.step, images=_sample_grid(net_g, held_sketches, held_images))
        metrics = {"held_out_l1": _held_out_l1(net_g, held_sketches, held_images)}
        history.append({"epoch": epoch, **metrics})
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))

    checkpoint = {
        "family": "sketch_gan", "generator_kwargs": generator_kwargs, "config": config.to_dict(),
        # Half precision halves the committed file; the generator runs in float32 after loading.
        "state_dict": {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in net_g.state_dict().items()},
        "metrics": history[-1], "trained_at": utc_now(), "train_pairs": len(pairs),
    }
    result = TrainResult(checkpoint=str(context.out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(context.out_path, checkpoint, {"config": config.to_dict(), "history": history, "final": history[-1],
                                                   "seconds": result.seconds, "device": result.device,
                                                   "train_pairs": len(pairs), "trained_at": checkpoint["trained_at"]})
    callback.on_finish(result)
    return result


def _gan_step(net_g, net_d, opt_g, opt_d, sketch, real, l1_weight: float) -> dict[str, float]:
    """One discriminator step, then one generator step (pix2pix's order and losses)."""
    fake = net_g(sketch)
    d_real, d_fake = net_d(sketch, real), net_d(sketch, fake.detach())
    loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    d_fake = net_d(sketch, fake)
    loss_adv = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
    loss_l1 = F.l1_loss(fake, real)
    opt_g.zero_grad(set_to_none=True)
    (loss_adv + l1_weight * loss_l1).backward()
    opt_g.step()
    return {"D": round(loss_d.item(), 4), "G_adv": round(loss_adv.item(), 4), "G_L1": round(loss_l1.item(), 4)}


@torch.inference_mode()
def _held_out_l1(net_g, sketches, images) -> float:
    net_g.eval()
    return round(float(F.l1_loss(net_g(sketches), images)), 4)


@torch.inference_mode()
def _sample_grid(net_g, sketches, images) -> list[np.ndarray]:
    """Three rows: the sketches, the generator's images, the real images."""
    net_g.eval()
    fake = net_g(sketches[:SAMPLES])
    net_g.train()
    rows = torch.cat([sketches[:SAMPLES], fake, images[:SAMPLES]])[:, 0]
    return list((rows.clamp(0, 1) * 255).round().byte().cpu().numpy())


register_trainer(TrainerSpec(
    name="sketch_gan", title="Sketch-to-image GAN (pix2pix)",
    description="A U-Net generator and a PatchGAN discriminator learn to turn a sketch into a gallery-style image "
                "(adversarial loss + 100 x L1). Needs `manage.py make_sketch_pairs` first.",
    config_cls=SketchGANConfig, run=train_sketch_gan, dataset="sketch-pairs", produces="sketch_gan", generative=True,
    quick={"epochs": 1, "batch_size": 16, "subset": 64, "ngf": 8, "sample_every": 2, "device": "cpu"},
    checkpoint_name=lambda config: "sketch-gan.pt",
))
