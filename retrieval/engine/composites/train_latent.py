"""Trains the two latent models of the composite search:

- ``composites_encoder`` (the paper's): the GAN's discriminator, its last layer replaced by a conv
  to the latent size, as encoder and the GAN's generator as decoder, trained together with a
  pixel loss ||G(E(x)) - x||^2 and a latent loss ||E(G(z)) - z||^2 (both as means; the latent
  loss trains the encoder only, so the decoder stays the GAN's unless the pixels ask otherwise);
  ``--no-tune-generator`` inverts the frozen generator instead;
- ``composites_ae`` (the baseline): an encoder and a decoder of the same shapes, from scratch,
  trained together with the pixel loss alone, without the GAN.

Both stream rows of gallery images and their reconstructions, and save encoder and decoder."""

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from retrieval.engine.devices import resolve_device
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

from .common import CHECKPOINTS, as_tiles, batches, checkpoint_name
from .config import CompositeAEConfig, CompositeEncoderConfig
from .data import gallery_shape, training_images
from .nets import LATENT, Discriminator, Encoder, Generator, half_state, load_state

SHOWN = 8  # images (and their reconstructions) in the live grid
HELD = 256  # fixed training images for the per-epoch reconstruction error (the stamps have no unseen ones)


def gan_checkpoint(config, context: TrainContext) -> Path:
    """The GAN to start from: the configured one, else the family's file beside the output, else the committed one."""
    if config.gan:
        return Path(config.gan)
    name = checkpoint_name("gan", config.gallery)
    beside = Path(context.out_path).parent / name
    return beside if beside.exists() else CHECKPOINTS / name


def _networks(config, context, device, paper: bool):
    size, channels, _ = gallery_shape(config.gallery)
    if not paper:
        shape = {"size": size, "channels": channels, "width": config.width, "nz": LATENT}
        return Generator(**shape).to(device), Encoder(size, channels, config.width).to(device), shape, None
    path = gan_checkpoint(config, context)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: train the GAN first (manage.py train composites_gan "
                                f"--gallery {config.gallery})")
    gan = torch.load(path, map_location="cpu", weights_only=False)
    shape = gan["shape"]
    net_g = load_state(Generator(**shape), gan["generator"]).to(device)
    disc = load_state(Discriminator(shape["size"], shape["channels"], shape["width"]), gan["discriminator"])
    encoder = Encoder.from_discriminator(disc, shape["size"], shape["channels"], shape["width"]).to(device)
    return net_g, encoder, shape, path.name


def train_latent(config, context: TrainContext, callback: TrainingCallback, *, paper: bool) -> TrainResult:
    device = resolve_device(config.device)
    seed_torch(config.seed)
    _, _, background = gallery_shape(config.gallery)
    images = training_images(config.gallery, context.data_dir, config.folder, config.subset, config.seed)
    net_g, encoder, shape, gan_name = _networks(config, context, device, paper)
    tuned = not paper or config.tune_generator  # the baseline's decoder always learns
    net_g.requires_grad_(tuned)
    params = list(encoder.parameters()) + (list(net_g.parameters()) if tuned else [])
    opt = torch.optim.Adam(params, lr=config.lr, betas=(config.beta1, 0.999))
    rng = torch.Generator().manual_seed(config.seed)
    held = torch.from_numpy(images[torch.randperm(len(images), generator=torch.Generator().manual_seed(7))[:HELD].numpy()])
    steps_per_epoch = math.ceil(len(images) / config.batch_size)
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))
    history = []
    for epoch in range(1, config.epochs + 1):
        encoder.train()
        net_g.train(tuned)
        for batch in batches(images, config, rng, background, config.gallery == "tuxpaint-stamps"):
            x = batch.to(device)
            losses = {"pixel": F.mse_loss(net_g(encoder(x)), x)}
            if paper:
                z = torch.randn(len(x), LATENT, generator=rng).to(device)
                with torch.no_grad():  # the decoder learns from the pixel loss alone
                    fake = net_g(z)
                losses["latent"] = F.mse_loss(encoder(fake), z)
            total = losses["pixel"] + (config.latent_weight * losses["latent"] if paper else 0)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            info = clock.tick(epoch=epoch, batch_size=len(x), losses={k: round(v.item(), 5) for k, v in losses.items()})
            if info.step % config.sample_every == 0 or info.step == clock.total_steps:
                callback.on_samples(step=info.step, images=_samples(net_g, encoder, held[:SHOWN].to(device)))
        metrics = {"held_pixel_mse": _held_error(net_g, encoder, held.to(device))}
        history.append({"epoch": epoch, **metrics})
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))
    family = "composites_encoder" if paper else "composites_ae"
    checkpoint = {"family": family, "gallery": config.gallery, "shape": shape, "config": config.to_dict(),
                  "encoder": half_state(encoder), "generator": half_state(net_g), "gan": gan_name,
                  "metrics": history[-1], "trained_at": utc_now(), "train_images": len(images)}
    result = TrainResult(checkpoint=str(context.out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(context.out_path, checkpoint, {"config": config.to_dict(), "history": history, "final": history[-1],
                                                   "seconds": result.seconds, "device": result.device, "gan": gan_name,
                                                   "train_images": len(images), "trained_at": checkpoint["trained_at"]})
    callback.on_finish(result)
    return result


@torch.inference_mode()
def _held_error(net_g, encoder, held) -> float:
    encoder.eval()
    net_g.eval()
    error = float(F.mse_loss(net_g(encoder(held)), held))
    encoder.train()
    return round(error, 5)


@torch.inference_mode()
def _samples(net_g, encoder, shown):
    was_g, was_e = net_g.training, encoder.training
    net_g.eval()
    encoder.eval()
    out = as_tiles(torch.cat([shown, net_g(encoder(shown))]))
    net_g.train(was_g)
    encoder.train(was_e)
    return out


QUICK = {"epochs": 1, "batch_size": 16, "subset": 48, "sample_every": 2, "device": "cpu"}
register_trainer(TrainerSpec(
    name="composites_encoder", title="Composites GAN encoder (GAN + autoencoder)",
    description="The DCGAN's discriminator, its last layer replaced by a conv to the latent, as encoder and its "
                "generator as decoder, trained together (pixel loss ||G(E(x)) - x|| + latent loss ||E(G(z)) - z||): "
                "Kundu & Dutta's latents. "
                "Needs `manage.py train composites_gan` first.",
    config_cls=CompositeEncoderConfig, run=lambda c, x, cb: train_latent(c, x, cb, paper=True), dataset="fashion-mnist",
    produces="composites_encoder", generative=True, quick=QUICK | {"width": 16},
    checkpoint_name=lambda config: checkpoint_name("encoder", config.gallery),
))
register_trainer(TrainerSpec(
    name="composites_ae", title="Composites baseline autoencoder",
    description="An encoder and a decoder of the GAN's shapes trained together with the pixel loss alone: the "
                "autoencoder-only baseline of Kundu & Dutta.",
    config_cls=CompositeAEConfig, run=lambda c, x, cb: train_latent(c, x, cb, paper=False), dataset="fashion-mnist",
    produces="composites_ae", generative=True, quick=QUICK | {"width": 8},
    checkpoint_name=lambda config: checkpoint_name("ae", config.gallery),
))
