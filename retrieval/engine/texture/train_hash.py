"""Stage 2: trains a hashing network through the training centre (DSDH or DPSH, the TSN
trunk or the plain-CNN baseline, with or without channel attention and TSN augmentation).

The training pool is fixed (DSDH keeps a code per sample): ``per_class`` crops of each
texture's training region, plus, with augmentation, ``augment_per_class`` patches the frozen
TSN made: a training crop expanded to 2k x 2k, then a random k x k crop of the expansion.
Per epoch: U by back-propagation over the pool, then W by ridge regression and B by
discrete cyclic coordinate descent (DSDH); DPSH needs neither.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.config import DEVICES, TrainConfig, common_errors
from retrieval.engine.devices import resolve_device
from retrieval.engine.errors import NotReady
from retrieval.engine.options import option
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, one_cycle, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

from . import dsdh
from .hashnet import create_hash_net
from .patterns import load_textures
from .regions import CROP, TRAIN_SEED, training_crops
from .tsn import load_generator, to_unit

PACKAGED_CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
TSN_CHECKPOINT = "texture-tsn.pt"


def parse_bits(text: str) -> tuple[int, ...]:
    bits = tuple(sorted({int(b) for b in str(text).replace(" ", "").split(",") if b}))
    if not bits or any(b < 8 or b % 8 or b > 1024 for b in bits):
        raise ValueError("code lengths must be multiples of 8 from 8 to 1024, comma-separated")
    return bits


@dataclass(frozen=True)
class HashTrainConfig(TrainConfig):
    loss: str = field(default="dsdh", metadata=option("objective", choices=("dsdh", "dpsh")))
    trunk: str = field(default="tsn", metadata=option("features: the frozen TSN's, or a plain CNN's (the DSDH baseline)",
                                                      choices=("tsn", "plain")))
    attention: bool = field(default=True, metadata=option("channel-wise attention on the TSN activations"))
    augment: bool = field(default=True, metadata=option("add TSN-generated patches to the training data"))
    bits: str = field(default="32,64,128,256", metadata=option("code lengths, comma-separated (one hash layer each)"))
    epochs: int = field(default=30, metadata=option("passes over the training pool"))
    batch_size: int = field(default=64, metadata=option("crops per optimisation step"))
    lr: float = field(default=5e-4, metadata=option("peak Adam learning rate (one-cycle)", title="learning rate"))
    per_class: int = field(default=16, metadata=option("training-region crops per texture"))
    augment_per_class: int = field(default=8, metadata=option("TSN-generated patches per texture", advanced=True))
    eta: float = field(default=dsdh.ETA, metadata=option("DSDH quantisation weight", advanced=True))
    mu: float = field(default=dsdh.MU_SCALED, metadata=option(
        "DSDH classifier weight (the authors' 1 leaves B = sign(U): see engine.texture.dsdh)", advanced=True))
    nu: float = field(default=dsdh.NU, metadata=option("DSDH ridge weight", advanced=True))
    fresh_crops: bool = field(default=True, metadata=option(
        "redraw every sample's crop from its training region each epoch (its class and code stay)"))
    dihedral: bool = field(default=False, metadata=option(
        "augment: each crop flipped and rotated by a random multiple of 90 degrees, redrawn every epoch"))
    jitter: float = field(default=0.0, metadata=option(
        "augment: brightness and per-channel colour jitter, as a share of the range (0: none)", advanced=True))
    test_flips: bool = field(default=False, metadata=option(
        "code every crop (database, queries) by its outputs summed over its 8 flips and quarter-turns"))
    validation: bool = field(default=False, metadata=option(
        "tuning run: train on two training quadrants only, the third held out as the validation region"))
    b_init: str = field(default="class", metadata=option(
        "first codes B: one random code per class (class), or one per sample (random, the authors' code)",
        choices=("class", "random"), advanced=True))
    dpsh_lambda: float = field(default=dsdh.DPSH_LAMBDA, metadata=option("DPSH quantisation weight", advanced=True))
    width: int = field(default=64, metadata=option("trainable trunk width", advanced=True))
    tsn: str | None = field(default=None, metadata=option("TSN checkpoint (blank: texture-tsn.pt)", advanced=True))
    textures: int | None = field(default=None, metadata=option("only the first N textures (blank: all)", advanced=True))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))

    def errors(self) -> list[str]:
        errors = common_errors(self)
        try:
            parse_bits(self.bits)
        except ValueError as error:
            errors.append(str(error))
        if self.batch_size < 2:
            errors.append("batch size must be at least 2 (batch norm needs two crops)")
        if self.per_class < 1 or self.augment_per_class < 0:
            errors.append("per class must be at least 1 and augment per class at least 0")
        if self.trunk == "plain" and self.augment:
            errors.append("TSN augmentation needs the TSN: use --no-augment with the plain trunk")
        if not 0 <= self.jitter <= 0.5:
            errors.append("jitter must be between 0 and 0.5")
        if self.textures is not None and self.textures < 2:
            errors.append("textures must be at least 2")
        return errors

    @property
    def variant(self) -> str:
        if self.trunk == "plain":
            return self.loss
        name = f"tsn_{self.loss}"
        return name + ("" if self.attention else "_no_attention") + ("" if self.augment else "_no_augmentation")


def tsn_path(config: HashTrainConfig, context: TrainContext) -> Path:
    if config.tsn:
        return Path(config.tsn)
    beside = Path(context.out_path).parent / TSN_CHECKPOINT
    return beside if beside.is_file() else PACKAGED_CHECKPOINTS / TSN_CHECKPOINT


def tsn_patches(tsn, crops: np.ndarray, seed: int, k: int = CROP) -> torch.Tensor:
    """Each k x k crop expanded by the TSN to 2k x 2k, then a random k x k crop of that."""
    rng = np.random.default_rng(seed)
    with torch.inference_mode():
        expanded = torch.cat([tsn(to_unit(crops[s:s + 256])) for s in range(0, len(crops), 256)])
    offsets = rng.integers(0, expanded.shape[-1] - k + 1, size=(len(crops), 2))
    return torch.stack([e[:, y:y + k, x:x + k] for e, (y, x) in zip(expanded, offsets, strict=True)])


def augmented(images: torch.Tensor, config: HashTrainConfig, seed: int) -> torch.Tensor:
    """Changes a texture's class survives: a flip and a quarter-turn (``dihedral``), and a
    small brightness and colour shift (``jitter``), drawn per crop."""
    gen = torch.Generator().manual_seed(seed)
    if config.dihedral:
        flips = torch.rand(len(images), generator=gen) < 0.5
        images = torch.where(flips[:, None, None, None], images.flip(-1), images)
        turns = torch.randint(0, 4, (len(images),), generator=gen)
        images = torch.stack([torch.rot90(image, int(t), (1, 2)) for image, t in zip(images, turns, strict=True)])
    if config.jitter:
        # in [-1, 1] units the range is 2: a shift of 2 * jitter at most, shared by the channels, plus half that per channel
        shift = (torch.rand(len(images), 1, 1, 1, generator=gen) * 2 - 1) * 2 * config.jitter
        tint = (torch.rand(len(images), 3, 1, 1, generator=gen) * 2 - 1) * config.jitter
        images = (images + shift + tint).clamp(-1, 1)
    return images


def training_pool(config: HashTrainConfig, textures, tsn, epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The pool's crops: sample i keeps its class (and its code in B); with ``fresh_crops`` its
    crop is redrawn from the training region every epoch (random-crop augmentation)."""
    shift = 2 * epoch if config.fresh_crops else 0
    pool = training_crops(textures, config.per_class, seed=TRAIN_SEED + shift, validation=config.validation)
    images, labels = [to_unit(pool.images)], [torch.from_numpy(pool.labels)]
    if config.augment and config.augment_per_class:
        extra = training_crops(textures, config.augment_per_class, seed=TRAIN_SEED + 1 + shift,
                               validation=config.validation)
        images.append(tsn_patches(tsn, extra.images, config.seed + shift))
        labels.append(torch.from_numpy(extra.labels))
    return augmented(torch.cat(images), config, config.seed + 1000 + epoch), torch.cat(labels)


def initial_codes(labels: torch.Tensor, classes: int, bits: int, how: str, gen: torch.Generator) -> torch.Tensor:
    """DSDH's first B. Random per sample, the quantisation term (eta 55) spends the first epoch
    fitting noise; a random code per class starts B where the classifier term drives it."""
    if how == "class":
        return torch.randint(0, 2, (classes, bits), generator=gen).float().mul(2).sub(1)[labels]
    return torch.randint(0, 2, (len(labels), bits), generator=gen).float().mul(2).sub(1)


def train_hash(config: HashTrainConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
    device = resolve_device(config.device)
    seed_torch(config.seed)
    bits = parse_bits(config.bits)
    textures = load_textures(context.data_dir, limit=config.textures)
    tsn, tsn_record = None, None
    if config.trunk == "tsn" or config.augment:
        path = tsn_path(config, context)
        if not path.is_file():
            raise NotReady(f"no TSN checkpoint at {path}: train texture_tsn first")
        tsn, tsn_record = load_generator(path)
    x, y = training_pool(config, textures, tsn)
    net = create_hash_net(config.trunk, bits, tsn=tsn, attention=config.attention, width=config.width).to(device)
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(trainable, lr=config.lr, weight_decay=1e-5)
    steps_per_epoch = math.ceil(len(x) / config.batch_size)
    scheduler = one_cycle(optimiser, config.lr, steps_per_epoch * config.epochs)
    n, classes = len(x), len(textures)
    Y = F.one_hot(y, classes).float().to(device)
    gen = torch.Generator().manual_seed(config.seed)
    U = {b: torch.zeros(n, b, device=device) for b in bits}
    B = {b: initial_codes(y, classes, b, config.b_init, gen).to(device) for b in bits}
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))
    history = []
    for epoch in range(1, config.epochs + 1):
        if (config.fresh_crops or config.dihedral or config.jitter) and epoch > 1:
            x, _ = training_pool(config, textures, tsn, epoch)
        net.train()
        total = 0.0
        for batch in torch.randperm(n, generator=gen).split(config.batch_size):
            if len(batch) < 2:
                continue
            outputs = net(x[batch].to(device))
            S = dsdh.similarity(y[batch].to(device), y.to(device))
            loss = 0.0
            for b, u in outputs.items():
                U[b][batch] = u.detach()
                # each term grows with the code length: per bit, the longest head would steer the shared trunk
                loss = loss + (dsdh.dsdh_u_loss(u, U[b], S, B[b][batch], config.eta) if config.loss == "dsdh"
                               else dsdh.dpsh_loss(u, U[b], S, config.dpsh_lambda)) / b
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += loss.item() * len(batch)
            clock.tick(epoch=epoch, batch_size=len(batch), losses={"loss": round(loss.item(), 4)})
        metrics = {"loss": round(total / n, 4)}
        if config.loss == "dsdh":
            for b in bits:
                W = dsdh.w_step(B[b], Y, config.mu, config.nu)
                B[b] = dsdh.b_step(B[b], U[b], Y, W, mu=config.mu, eta=config.eta)
            W = dsdh.w_step(B[bits[0]], Y, config.mu, config.nu)
            metrics["train_accuracy"] = round(float(((B[bits[0]] @ W).argmax(1) == y.to(device)).float().mean()), 4)
        history.append({"epoch": epoch, **metrics})
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))
    return _save(net, config, bits, tsn_record, history, clock, device, n, len(textures), context, callback)


def _save(net, config, bits, tsn_record, history, clock, device, n, classes, context, callback) -> TrainResult:
    state = {k: v.detach().cpu().half() if v.is_floating_point() else v.cpu() for k, v in net.state_dict().items()}
    checkpoint = {"family": "texture_hash", "variant": config.variant, "trunk": config.trunk, "bits": list(bits),
                  "attention": config.attention, "width": config.width, "state_dict": state,
                  "tsn_kwargs": tsn_record["net_kwargs"] if tsn_record else None, "config": config.to_dict(),
                  "metrics": history[-1], "trained_at": utc_now(), "crop": CROP, "classes": classes,
                  "validation": config.validation}
    result = TrainResult(checkpoint=str(context.out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(context.out_path, checkpoint, {
        "variant": config.variant, "bits": list(bits), "config": config.to_dict(), "history": history,
        "final": history[-1], "seconds": result.seconds, "device": result.device, "train_crops": n,
        "classes": classes, "trained_at": checkpoint["trained_at"]})
    callback.on_finish(result)
    return result


register_trainer(TrainerSpec(
    name="texture_hash", title="Texture hashing network",
    description="Stage 2 of texture hashing: binary codes (32-256 bits) from the frozen TSN's encoder/decoder "
                "activations with channel attention, trained with DSDH (or DPSH), TSN patches as extra data.",
    config_cls=HashTrainConfig, run=train_hash, dataset="textures", produces="texture_hash",
    quick={"epochs": 1, "per_class": 2, "augment_per_class": 1, "textures": 4, "bits": "16", "device": "cpu",
           "batch_size": 4},
    checkpoint_name=lambda config: f"texture-hash-{config.variant}{'-validation' if config.validation else ''}.pt",
))
