"""Trains the enhancement networks: gallery images degraded on the fly (a seeded generator
picks the degradation and its strength per batch) and restored by the network, MSE to the
clean image, Adam. Two families: the denoising autoencoder for noise, the SRCNN-style
network for low resolution, motion blur and JPEG.

Reports per-epoch PSNR on held-out test images degraded at the paper's defaults, and a
sample grid (degraded / enhanced / clean rows) for the live run page.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.config import DEVICES, TrainConfig, common_errors
from retrieval.engine.data import fashion_mnist
from retrieval.engine.data.fashion_mnist import balanced_subset
from retrieval.engine.degraded.degradations import InvalidDegradation, parse_names, random_degradations
from retrieval.engine.degraded.enhance import FAMILY, run_net
from retrieval.engine.degraded.nets import create_enhancer_net
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.devices import resolve_device
from retrieval.engine.errors import NotReady
from retrieval.engine.options import option
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

EVAL_SEED = 2024  # the held-out images are degraded the same way in every epoch and every run
SAMPLES = 8  # images per row of the sample grid


@dataclass(frozen=True)
class EnhancerTrainConfig(TrainConfig):
    degradations: str = field(default="gaussian,salt_pepper,speckle", metadata=option(
        "degradations it learns to undo, comma-separated, or all"))
    epochs: int = field(default=6, metadata=option("passes over the training images"))
    batch_size: int = field(default=128, metadata=option("images per optimisation step"))
    lr: float = field(default=1e-3, metadata=option("Adam learning rate", title="learning rate"))
    subset: int | None = field(default=None, metadata=option("a balanced subset of N images (blank: all)", title="subset size"))
    vary: bool = field(default=True, metadata=option("draw each degradation's strength from a range around the "
                                                     "paper's default (off: the defaults only)"))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))
    eval_images: int = field(default=1000, metadata=option("held-out test images for the per-epoch PSNR", advanced=True))
    feature_weight: float = field(default=0.0, metadata=option(
        "weight of the descriptor term: the enhanced image should get the clean image's descriptor "
        "(0: the paper's MSE alone)"))
    teacher: str | None = field(default=None, metadata=option(
        "descriptor checkpoint of that term (blank: the one serving the gallery)", advanced=True))

    def errors(self) -> list[str]:
        errors = common_errors(self)
        if self.batch_size == 1:
            errors.append("batch size must be at least 2 (batch norm needs two images)")
        if not self.feature_weight >= 0:
            errors.append("feature weight cannot be negative")
        try:
            parse_names(self.degradations)
        except InvalidDegradation as error:
            errors.append(f"degradations: {error}")
        if self.eval_images < 1:
            errors.append("eval images must be at least 1")
        return errors


@dataclass(frozen=True)
class RestorerTrainConfig(EnhancerTrainConfig):
    degradations: str = field(default="low_resolution,motion_blur,jpeg", metadata=option(
        "degradations it learns to undo, comma-separated, or all"))
    epochs: int = field(default=3, metadata=option("passes over the training images"))
    batch_size: int = field(default=64, metadata=option("images per optimisation step"))


def train_enhancer(config: EnhancerTrainConfig, *, arch: str, kind: str, train_images: np.ndarray,
                   train_labels: np.ndarray, eval_images: np.ndarray, out_path: Path | str,
                   callback: TrainingCallback | None = None, teacher=None) -> TrainResult:
    """``teacher``: the descriptor of the feature term (needed when ``config.feature_weight`` > 0)."""
    callback = callback or TrainingCallback()
    device = resolve_device(config.device)
    seed_torch(config.seed)
    names = parse_names(config.degradations)
    if config.subset:
        train_images = train_images[balanced_subset(train_labels, max(1, config.subset // 10), seed=config.seed)]
    clean = torch.from_numpy(train_images).to(device)
    held_out = eval_set(eval_images[:config.eval_images], names)
    net = create_enhancer_net(arch).to(device)
    feature_term = FeatureTerm(teacher, device) if config.feature_weight > 0 else None
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    steps_per_epoch = math.ceil(len(clean) / config.batch_size)
    rng = np.random.default_rng(config.seed)
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))

    history = []
    for epoch in range(1, config.epochs + 1):
        net.train()
        running = 0.0
        for batch in np.array_split(rng.permutation(len(clean)), steps_per_epoch):
            target = clean[torch.from_numpy(batch).to(device)].float() / 255.0
            degraded = random_degradations(target.cpu().numpy(), names, rng, vary=config.vary)
            enhanced = run_net(net, torch.from_numpy(degraded).to(device), clamp=False)
            terms = {"mse": F.mse_loss(enhanced, target)}
            if feature_term is not None:
                terms["feature"] = feature_term(enhanced, target)
            loss = terms["mse"] + config.feature_weight * terms.get("feature", 0.0)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            running += terms["mse"].item() * len(batch)
            clock.tick(epoch=epoch, batch_size=len(batch), losses={k: round(v.item(), 6) for k, v in terms.items()})
        metrics, grid = evaluate_enhancer(net, held_out, device)
        metrics = {"train_mse": round(running / len(clean), 6), **metrics}
        history.append({"epoch": epoch, **metrics})
        callback.on_samples(step=clock.step, images=grid)
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))
    return _save(net, config, arch=arch, kind=kind, names=names, history=history, out_path=Path(out_path),
                 clock=clock, device=device, train_count=len(clean), callback=callback,
                 teacher_id=teacher.checkpoint_id if feature_term else None)


class FeatureTerm:
    """Squared distance between the L2-normalised descriptors of the enhanced and the clean
    image: MSE alone rewards a safe blur, which erases the texture the descriptor tells
    similar classes apart by (shirts from T-shirts); this term makes the enhancer restore
    what retrieval needs."""

    def __init__(self, teacher, device):
        self.net = teacher.net.to(device).eval().requires_grad_(False)
        self.mean, self.std = teacher.mean, teacher.std

    def _embed(self, images01: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net.features((images01[:, None] - self.mean) / self.std), dim=1)

    def __call__(self, enhanced: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self._embed(clean)
        return (self._embed(enhanced) - target).pow(2).sum(1).mean()


def eval_set(images: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(degraded, clean) float32 [N, H, W]: each held-out image degraded by one of ``names``
    at the paper's defaults, the same way every time."""
    clean = images.astype(np.float32) / 255.0
    return random_degradations(clean, names, np.random.default_rng(EVAL_SEED), vary=False), clean


@torch.inference_mode()
def evaluate_enhancer(net, held_out: tuple[np.ndarray, np.ndarray], device) -> tuple[dict, np.ndarray]:
    """Held-out MSE and PSNR before and after enhancing, and the sample grid (uint8 [3 * SAMPLES, H, W])."""
    net.eval()
    degraded, clean = held_out
    enhanced = np.concatenate([run_net(net, torch.from_numpy(degraded[s:s + 256]).to(device)).cpu().numpy()
                               for s in range(0, len(degraded), 256)])
    mse = float(np.mean((enhanced - clean) ** 2))
    mse_before = float(np.mean((degraded - clean) ** 2))
    metrics = {"mse": round(mse, 6), "psnr": round(psnr(mse), 3), "psnr_degraded": round(psnr(mse_before), 3)}
    rows = [degraded[:SAMPLES], enhanced[:SAMPLES], clean[:SAMPLES]]
    return metrics, (np.concatenate(rows) * 255).round().astype(np.uint8)


def psnr(mse: float) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1]."""
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def _save(net, config, *, arch, kind, names, history, out_path: Path, clock, device, train_count, callback,
          teacher_id: str | None) -> TrainResult:
    checkpoint = {
        "family": FAMILY, "kind": kind, "arch": arch, "net_kwargs": {}, "teacher_id": teacher_id,
        # Half precision on disk halves the file (the autoencoder's is 1.6 MB instead of 3.1 MB);
        # loading casts back to float32. Weight errors of fp16's size were measured to move the
        # committed enhancers' outputs by under 0.002 (half a grey level).
        "state_dict": {k: _compact(v) for k, v in net.state_dict().items()},
        "degradations": list(names), "config": config.to_dict(), "metrics": history[-1],
        "trained_at": utc_now(), "train_images": int(train_count),
    }
    result = TrainResult(checkpoint=str(out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(out_path, checkpoint, {
        "kind": kind, "arch": arch, "degradations": list(names), "config": config.to_dict(), "history": history,
        "final": history[-1], "seconds": result.seconds, "device": result.device, "train_images": int(train_count),
        "trained_at": checkpoint["trained_at"],
    })
    callback.on_finish(result)
    return result


def _compact(tensor: torch.Tensor) -> torch.Tensor:
    tensor = tensor.detach().cpu()
    return tensor.half() if tensor.is_floating_point() else tensor


def teacher_for(config: EnhancerTrainConfig, context: TrainContext):
    """The descriptor of the feature term, or None when the term is off."""
    if config.feature_weight <= 0:
        return None
    path = Path(config.teacher) if config.teacher else context.descriptor_path
    if path is None or not Path(path).is_file():
        raise NotReady(f"The descriptor checkpoint of the feature term was not found ({path}); "
                       "train one first or set the feature weight to 0.")
    return load_descriptor(path, resolve_device(config.device))


def _runner(arch: str, kind: str):
    def run(config: EnhancerTrainConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
        """Fashion-MNIST's train split (the gallery) is what it learns; the test split is held out."""
        teacher = teacher_for(config, context)
        train_images, train_labels = fashion_mnist.load_split(context.data_dir, "train")
        eval_images, _ = fashion_mnist.load_split(context.data_dir, "test", limit=config.eval_images)
        return train_enhancer(config, arch=arch, kind=kind, train_images=train_images, train_labels=train_labels,
                              eval_images=eval_images, out_path=context.out_path, callback=callback, teacher=teacher)
    return run


QUICK = {"epochs": 1, "batch_size": 32, "subset": 64, "eval_images": 16, "device": "cpu"}

register_trainer(TrainerSpec(
    name="denoiser", title="Denoising autoencoder",
    description="Undoes Gaussian, salt-and-pepper and speckle noise (Vu's enhancer for noisy queries): five "
                "stride-2 convolutions down, five transposed convolutions up, tanh output.",
    config_cls=EnhancerTrainConfig, run=_runner("denoising_autoencoder", "denoiser"), dataset="fashion-mnist",
    produces="enhancer", generative=True, quick=QUICK, checkpoint_name=lambda config: "enhancer-denoiser.pt",
))
register_trainer(TrainerSpec(
    name="restorer", title="SRCNN restorer",
    description="Undoes low resolution, motion blur and JPEG artefacts (Vu's SRCNN-style enhancer): five "
                "convolutions at full resolution, predicting the correction to its input.",
    config_cls=RestorerTrainConfig, run=_runner("srcnn", "restorer"), dataset="fashion-mnist",
    produces="enhancer", generative=True, quick=QUICK, checkpoint_name=lambda config: "enhancer-restorer.pt",
))
