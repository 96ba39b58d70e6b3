"""Trains the item segmenter (``segment.ItemSegmenter``): gallery items made into photos on
the fly (``augment.TRAIN_STYLE``: the training background kinds only, new photos every
epoch), each photo's working copy in, its true item mask out, binary cross-entropy plus a
soft Dice term (items are a small share of the frame: cross-entropy alone settles for
"background everywhere" on the smallest ones), AdamW with a one-cycle schedule.

Reports per epoch the median mask IoU on photos of held-out test items (training kinds, a
fixed seed of its own), and a sample grid (photo / predicted mask / true mask rows).
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from retrieval.engine.config import DEVICES, TrainConfig, common_errors
from retrieval.engine.data import fashion_mnist
from retrieval.engine.devices import resolve_device
from retrieval.engine.errors import NotReady
from retrieval.engine.options import option
from retrieval.engine.photo.augment import TRAIN_STYLE, compose_photo
from retrieval.engine.photo.backgrounds import HELD_OUT_KINDS, TRAIN_KINDS
from retrieval.engine.photo.foreground import LUMA
from retrieval.engine.photo.normalise import working_copy
from retrieval.engine.photo.segment import INPUT_SIDE, ItemSegmenter, network_input, read_net
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, one_cycle, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

VALIDATION_SEED = 4321  # neither the trainer's seeds nor the photo evaluation's (1111)
SAMPLES = 8


@dataclass(frozen=True)
class SegmenterTrainConfig(TrainConfig):
    epochs: int = field(default=4, metadata=option("passes (each over freshly made photos)"))
    photos: int = field(default=30000, metadata=option("photos made per epoch, from the training images in turn"))
    batch_size: int = field(default=64, metadata=option("photos per optimisation step"))
    lr: float = field(default=3e-3, metadata=option("peak of the one-cycle schedule", title="learning rate"))
    width: int = field(default=12, metadata=option("channels of the first stage (the rest are 2, 3, 4 times it)"))
    seed: int = field(default=0, metadata=option("random seed", advanced=True))
    device: str = field(default="auto", metadata=option("where to train", choices=DEVICES))
    eval_photos: int = field(default=500, metadata=option("held-out photos for the per-epoch mask IoU", advanced=True))
    init_from: str | None = field(default=None, metadata=option(
        "segmenter checkpoint to go on training (blank: from scratch; its width is kept)", advanced=True))

    def errors(self) -> list[str]:
        errors = common_errors(self)
        if self.batch_size == 1:
            errors.append("batch size must be at least 2 (batch norm needs two images)")
        if self.photos < 1 or self.eval_photos < 1:
            errors.append("photos and eval photos must be at least 1")
        if not 4 <= self.width <= 64:
            errors.append("width must be between 4 and 64")
        return errors


def photo_examples(items: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(network inputs float32 [N, 6, S, S], true masks float32 [N, S, S] as area shares) of
    each uint8 item [N, 28, 28] made into a photo, seen as the normalisation sees it."""
    inputs = np.empty((len(items), 6, INPUT_SIDE, INPUT_SIDE), np.float32)
    masks = np.empty((len(items), INPUT_SIDE, INPUT_SIDE), np.float32)
    for i, item in enumerate(items):
        photo, mask = compose_photo(item, TRAIN_STYLE, rng)
        inputs[i] = network_input(np.asarray(working_copy(Image.fromarray(photo)), np.float32) / 255.0)
        masks[i] = np.asarray(Image.fromarray(mask.astype(np.float32), "F").resize(
            (INPUT_SIDE, INPUT_SIDE), Image.Resampling.BOX))
    return inputs, masks


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    probability = torch.sigmoid(logits)
    overlap = (probability * target).sum((1, 2))
    dice = 1 - (2 * overlap + 1) / (probability.sum((1, 2)) + target.sum((1, 2)) + 1)
    return F.binary_cross_entropy_with_logits(logits, target) + dice.mean()


def train_segmenter(config: SegmenterTrainConfig, *, train_images: np.ndarray, eval_images: np.ndarray,
                    out_path: Path | str, callback: TrainingCallback | None = None) -> TrainResult:
    callback = callback or TrainingCallback()
    device = resolve_device(config.device)
    seed_torch(config.seed)
    rng = np.random.default_rng([config.seed, 7])
    held_out = photo_examples(eval_images[:config.eval_photos], np.random.default_rng(VALIDATION_SEED))
    net = starting_net(config).to(device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(config.photos / config.batch_size)
    schedule = one_cycle(optimiser, config.lr, steps_per_epoch * config.epochs)
    clock = StepClock(steps_per_epoch * config.epochs, config.epochs, callback)
    callback.on_start(total_steps=clock.total_steps, config=config.to_dict(), device=str(device))
    history, order = [], rng.permutation(len(train_images))
    for epoch in range(1, config.epochs + 1):
        net.train()
        running = 0.0
        for step in range(steps_per_epoch):
            start = ((epoch - 1) * config.photos + step * config.batch_size) % len(order)
            chosen = order[(start + np.arange(min(config.batch_size, config.photos - step * config.batch_size)))
                           % len(order)]
            inputs, masks = photo_examples(train_images[chosen], rng)
            loss = segmentation_loss(net(torch.from_numpy(inputs).to(device)), torch.from_numpy(masks).to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            running += loss.item() * len(chosen)
            clock.tick(epoch=epoch, batch_size=len(chosen), losses={"loss": round(loss.item(), 5)})
        metrics, grid = evaluate_segmenter(net, held_out, device)
        history.append({"epoch": epoch, "train_loss": round(running / config.photos, 5), **metrics})
        callback.on_samples(step=clock.step, images=grid)
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=history[-1]))
    return save_segmenter(net, config, history=history, out_path=Path(out_path), clock=clock, device=device,
                          callback=callback)


def starting_net(config: SegmenterTrainConfig) -> ItemSegmenter:
    """A new network, or the one in ``config.init_from`` (NotReady when that file is missing)."""
    if not config.init_from:
        return ItemSegmenter(config.width)
    path = Path(config.init_from)
    if not path.is_file():
        raise NotReady(f"No segmenter checkpoint at {path} to go on training from.")
    return read_net(path)


@torch.inference_mode()
def evaluate_segmenter(net: ItemSegmenter, held_out: tuple[np.ndarray, np.ndarray], device) -> tuple[dict, np.ndarray]:
    """Median and mean mask IoU (probability above one half against the true mask's majority)
    and the sample grid (uint8 [3 * SAMPLES, S, S]: photo's luminance, probability, true mask)."""
    net.eval()
    inputs, masks = held_out
    probability = torch.cat([torch.sigmoid(net(torch.from_numpy(inputs[s:s + 256]).to(device))).cpu()
                             for s in range(0, len(inputs), 256)]).numpy()
    found, truth = probability > 0.5, masks >= 0.5
    iou = (found & truth).sum((1, 2)) / np.maximum((found | truth).sum((1, 2)), 1)
    photo = (inputs[:SAMPLES, :3] + 0.5).transpose(0, 2, 3, 1) @ LUMA
    grid = np.concatenate([photo, probability[:SAMPLES], masks[:SAMPLES]])
    return ({"mask_iou": round(float(np.median(iou)), 4), "mask_iou_mean": round(float(iou.mean()), 4)},
            (np.clip(grid, 0, 1) * 255).round().astype(np.uint8))


def save_segmenter(net: ItemSegmenter, config: SegmenterTrainConfig, *, history: list[dict], out_path: Path, clock,
                   device, callback: TrainingCallback) -> TrainResult:
    checkpoint = {"family": "segmenter", "net_kwargs": {"width": net.width}, "input_side": INPUT_SIDE,
                  "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                  "config": config.to_dict(), "metrics": history[-1], "trained_at": utc_now(),
                  "train_kinds": list(TRAIN_KINDS), "held_out_kinds": list(HELD_OUT_KINDS)}
    result = TrainResult(checkpoint=str(out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(out_path, checkpoint, {
        "family": "segmenter", "config": config.to_dict(), "history": history, "final": history[-1],
        "seconds": result.seconds, "device": result.device, "trained_at": checkpoint["trained_at"],
        "photos_seen": config.photos * config.epochs, "train_kinds": list(TRAIN_KINDS),
    })
    callback.on_finish(result)
    return result


def run_segmenter_training(config: SegmenterTrainConfig, context: TrainContext,
                           callback: TrainingCallback) -> TrainResult:
    """Photos of Fashion-MNIST's train split (the gallery) are what it learns from; its
    validation photos are made from the test split."""
    train_images, _ = fashion_mnist.load_split(context.data_dir, "train")
    eval_images, _ = fashion_mnist.load_split(context.data_dir, "test", limit=config.eval_photos)
    return train_segmenter(config, train_images=train_images, eval_images=eval_images, out_path=context.out_path,
                           callback=callback)


register_trainer(TrainerSpec(
    name="photo_segmenter", title="Photo item segmenter",
    description="The small U-Net that finds the item in a query photo (what the photo normalisation crops): trained "
                f"on gallery items made into photos on {', '.join(TRAIN_KINDS)} backgrounds, the border's features "
                f"pooled as its background model; {', '.join(HELD_OUT_KINDS)} backgrounds are kept for the evaluation.",
    config_cls=SegmenterTrainConfig, run=run_segmenter_training, dataset="fashion-mnist", produces="segmenter",
    generative=True, quick={"epochs": 1, "photos": 64, "batch_size": 16, "eval_photos": 16, "width": 4,
                            "device": "cpu"},
    checkpoint_name=lambda config: "photo-segmenter.pt",
))
