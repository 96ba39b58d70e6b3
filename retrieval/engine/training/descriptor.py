"""Trains a descriptor CNN as a classifier on a labelled gallery; its pooled features are
the retrieval descriptor. Writes the checkpoint and a JSON record of configuration and
metrics beside it, both atomically."""

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..config import DescriptorTrainConfig
from ..data import fashion_mnist
from ..data.fashion_mnist import balanced_subset
from ..descriptors.cnn import pooled_features
from ..devices import resolve_device
from ..index import VectorIndex
from ..metrics import precision_at_k
from ..nets import create_net
from .callbacks import EpochInfo, TrainingCallback, TrainResult
from .loop import StepClock, one_cycle, save_checkpoint, seed_torch, utc_now
from .registry import TrainContext, TrainerSpec, register_trainer


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip, +-8 degree rotation, 0.9-1.1 scale and +-2 px shift, batched."""
    n = x.shape[0]
    rand = lambda *shape: torch.rand(*shape, generator=generator, device="cpu")  # noqa: E731
    angle = (rand(n) * 2 - 1) * math.radians(8)
    scale = 0.9 + rand(n) * 0.2
    flip = torch.where(rand(n) < 0.5, -1.0, 1.0)
    shift = (rand(n, 2) * 2 - 1) * (2 * 2 / x.shape[-1])
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1), torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


def train_descriptor(
    config: DescriptorTrainConfig, *, train_images: np.ndarray, train_labels: np.ndarray,
    eval_images: np.ndarray, eval_labels: np.ndarray, classes: tuple[str, ...],
    out_path: Path | str, callback: TrainingCallback | None = None,
    init: dict | None = None, batch_transform: Callable | None = None,
) -> TrainResult:
    """``init``: a descriptor checkpoint to start from (fine-tuning keeps its normalisation);
    ``batch_transform(x, mean, std, generator)``: applied to every normalised batch after the
    augmentation (the robust descriptor degrades images there)."""
    callback = callback or TrainingCallback()
    device = resolve_device(config.device)
    seed_torch(config.seed)
    if config.subset:
        keep = balanced_subset(train_labels, per_class=max(1, config.subset // len(classes)), seed=config.seed)
        train_images, train_labels = train_images[keep], train_labels[keep]
    eval_images, eval_labels = eval_images[:config.eval_queries], eval_labels[:config.eval_queries]

    mean, std = float(train_images.mean() / 255.0), float(train_images.std() / 255.0)
    net_kwargs = {"num_classes": len(classes), "in_channels": 1, "input_size": int(train_images.shape[-1])}
    net = create_net(config.arch, **net_kwargs).to(device)
    if init is not None:
        # The weights learned inputs normalised with the checkpoint's statistics: keep them.
        mean, std = init["mean"], init["std"]
        net.load_state_dict(init["state_dict"])
    images = torch.from_numpy(train_images).to(device)
    labels = torch.from_numpy(train_labels).to(device)
    steps_per_epoch = math.ceil(len(images) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = one_cycle(optimiser, config.lr, total_steps)
    generator = torch.Generator().manual_seed(config.seed)
    clock = StepClock(total_steps, config.epochs, callback)
    callback.on_start(total_steps=total_steps, config=config.to_dict(), device=str(device))

    history = []
    for epoch in range(1, config.epochs + 1):
        net.train()
        order = torch.randperm(len(images), generator=generator).to(device)
        running = 0.0
        for start in range(0, len(images), config.batch_size):
            batch = order[start:start + config.batch_size]
            x = (images[batch][:, None].float() / 255.0 - mean) / std
            if config.augment:
                x = augment(x, generator)
            if batch_transform is not None:
                x = batch_transform(x, mean, std, generator)
            loss = F.cross_entropy(net(x), labels[batch], label_smoothing=config.label_smoothing)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            running += loss.item() * len(batch)
            clock.tick(epoch=epoch, batch_size=len(batch), losses={"cross_entropy": round(loss.item(), 5)})
        metrics = {"train_loss": round(running / len(images), 5),
                   **evaluate_classifier(net, mean, std, device, train_images, train_labels, eval_images, eval_labels)}
        history.append({"epoch": epoch, **metrics})
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))

    checkpoint = {
        "family": "cnn", "arch": config.arch, "net_kwargs": net_kwargs,
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "classes": list(classes), "mean": mean, "std": std, "config": config.to_dict(),
        "metrics": history[-1], "trained_at": utc_now(),
        "train_images": int(len(images)),
    }
    result = TrainResult(checkpoint=str(out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(out_path, checkpoint, {
        "config": config.to_dict(), "history": history, "final": history[-1], "seconds": result.seconds,
        "device": result.device, "train_images": int(len(images)), "trained_at": checkpoint["trained_at"],
    })
    callback.on_finish(result)
    return result


@torch.inference_mode()
def evaluate_classifier(net, mean, std, device, gallery_images, gallery_labels, query_images, query_labels,
                        gallery_limit: int = 10000) -> dict:
    """Held-out accuracy, and P@5 of held-out queries against (a slice of) the gallery."""
    net.eval()

    def run(arrays):
        feats, logits = [], []
        for start in range(0, len(arrays), 1024):
            x = (torch.from_numpy(arrays[start:start + 1024]).to(device)[:, None].float() / 255.0 - mean) / std
            feats.append(pooled_features(net, x).cpu())
            logits.append(net(x).cpu())
        return torch.cat(feats).numpy(), torch.cat(logits)

    gallery_vectors, _ = run(gallery_images[:gallery_limit])
    query_vectors, logits = run(query_images)
    accuracy = (logits.argmax(1).numpy() == query_labels).mean()
    index = VectorIndex.build(gallery_vectors, np.arange(len(gallery_vectors)), gallery_labels[:gallery_limit],
                              {"checkpoint_id": "training"})
    hits = index.search(query_vectors, 5, "cosine")
    return {"accuracy": round(float(accuracy), 4), "P@5": round(precision_at_k(hits.labels, query_labels, 5), 4)}


def run_descriptor_training(config: DescriptorTrainConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
    """The registered entry point: Fashion-MNIST's train split is the gallery the network
    learns; its test split gives the held-out checks."""
    train_images, train_labels = fashion_mnist.load_split(context.data_dir, "train")
    eval_images, eval_labels = fashion_mnist.load_split(context.data_dir, "test")
    return train_descriptor(config, train_images=train_images, train_labels=train_labels, eval_images=eval_images,
                            eval_labels=eval_labels, classes=fashion_mnist.CLASS_NAMES, out_path=context.out_path,
                            callback=callback)


register_trainer(TrainerSpec(
    name="descriptor", title="Descriptor CNN",
    description="A classification CNN trained on the Fashion-MNIST gallery; its pooled features are the search descriptor.",
    config_cls=DescriptorTrainConfig, run=run_descriptor_training, dataset="fashion-mnist", produces="descriptor",
    quick={"epochs": 1, "batch_size": 64, "subset": 200, "eval_queries": 100, "augment": False, "device": "cpu"},
    checkpoint_name=lambda config: f"descriptor-{config.arch}.pt",
))
