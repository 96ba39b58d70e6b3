"""Trains the sketch encoder: the portal's own retrieval mode. A copy of the gallery
descriptor's network learns to put a sketch where the descriptor puts the sketched image
(cosine loss to the image's descriptor), and to keep the descriptor's own classifier right
on that embedding (a class term). Its output is searched in the unchanged gallery index.
"""

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.descriptors.cnn import pooled_features
from retrieval.engine.devices import resolve_device
from retrieval.engine.errors import NotReady
from retrieval.engine.index import VectorIndex
from retrieval.engine.metrics import precision_at_k
from retrieval.engine.nets import create_net
from retrieval.engine.sketch.config import SketchEncoderConfig
from retrieval.engine.sketch.normalise import normalise_inks
from retrieval.engine.sketch.pairs import load_training_pairs, sketch_queries
from retrieval.engine.sketch.strokes import drawn_sketches
from retrieval.engine.training.callbacks import EpochInfo, TrainingCallback, TrainResult
from retrieval.engine.training.loop import StepClock, one_cycle, save_checkpoint, seed_torch, utc_now
from retrieval.engine.training.registry import TrainContext, TrainerSpec, register_trainer

EVAL_GALLERY = 10000  # gallery slice for the per-epoch P@5 check


def teacher_path(config: SketchEncoderConfig, context: TrainContext) -> Path:
    path = Path(config.teacher) if config.teacher else context.descriptor_path
    if path is None or not Path(path).is_file():
        raise NotReady(f"The descriptor checkpoint to learn from was not found ({path}).")
    return Path(path)


def train_sketch_encoder(config: SketchEncoderConfig, context: TrainContext, callback: TrainingCallback) -> TrainResult:
    device = resolve_device(config.device)
    seed_torch(config.seed)
    teacher = load_descriptor(teacher_path(config, context), device)
    pairs = load_training_pairs(context.data_dir, config.edges, "train", config.subset, config.seed)
    targets = torch.from_numpy(teacher.describe_arrays(pairs.images)).to(device)

    net = create_net(teacher.arch, **teacher.net_kwargs).to(device)
    net.load_state_dict(teacher.net.state_dict())  # start from the descriptor: its space is the target
    mean, std = float(pairs.edges.mean() / 255.0), float(pairs.edges.std() / 255.0)
    edges, labels = torch.from_numpy(pairs.edges), torch.from_numpy(pairs.labels).to(device)
    total_steps = math.ceil(len(pairs) / config.batch_size) * config.epochs
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = one_cycle(optimiser, config.lr, total_steps)
    rng = torch.Generator().manual_seed(config.seed)
    clock = StepClock(total_steps, config.epochs, callback)
    callback.on_start(total_steps=total_steps, config=config.to_dict(), device=str(device))
    check = _HeldOutCheck(teacher, pairs, context.data_dir, config, mean, std)

    history = []
    for epoch in range(1, config.epochs + 1):
        net.train()
        for batch in torch.randperm(len(pairs), generator=rng).split(config.batch_size):
            sketch = drawn_sketches(edges[batch][:, None].float() / 255.0, rng, config.augment)
            if config.augment:
                sketch = torch.where(torch.rand(len(batch), 1, 1, 1, generator=rng) < 0.5, sketch.flip(-1), sketch)
            embedding = net.features((sketch.to(device) - mean) / std)
            align = (1 - F.cosine_similarity(embedding, targets[batch.to(device)])).mean()
            classify = F.cross_entropy(teacher.net.head(embedding), labels[batch.to(device)])
            loss = align + config.class_weight * classify
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            clock.tick(epoch=epoch, batch_size=len(batch),
                       losses={"cosine": round(align.item(), 5), "class": round(classify.item(), 5)})
        metrics = check(net)
        history.append({"epoch": epoch, **metrics})
        callback.on_epoch_end(EpochInfo(epoch=epoch, epochs=config.epochs, metrics=metrics))

    checkpoint = {
        "family": "sketch_encoder", "arch": teacher.arch, "net_kwargs": teacher.net_kwargs,
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "mean": mean, "std": std, "teacher_checkpoint_id": teacher.checkpoint_id, "features": teacher.features,
        "config": config.to_dict(), "metrics": history[-1], "trained_at": utc_now(), "train_pairs": len(pairs),
    }
    result = TrainResult(checkpoint=str(context.out_path), metrics=history[-1], seconds=round(clock.elapsed, 1),
                         device=str(device), history=history)
    save_checkpoint(context.out_path, checkpoint, {
        "config": config.to_dict(), "history": history, "final": history[-1], "seconds": result.seconds,
        "device": result.device, "teacher_checkpoint_id": teacher.checkpoint_id, "train_pairs": len(pairs),
        "trained_at": checkpoint["trained_at"]})
    callback.on_finish(result)
    return result


class _HeldOutCheck:
    """P@5 of drawn-looking held-out sketches (test split, fixed seed) against a slice of the
    gallery as the descriptor indexes it; the number the evaluation reports in full."""

    def __init__(self, teacher, gallery, folder, config: SketchEncoderConfig, mean: float, std: float):
        limit = min(EVAL_GALLERY, len(gallery))
        self.index = VectorIndex.build(teacher.describe_arrays(gallery.images[:limit]), np.arange(limit),
                                       gallery.labels[:limit], {"checkpoint_id": "training"})
        held = load_training_pairs(folder, config.edges, "test", config.eval_queries, config.seed)
        self.sketches = torch.from_numpy(normalise_inks(sketch_queries(held.edges) / 255.0))[:, None]
        self.labels, self.mean, self.std, self.device = held.labels, mean, std, teacher.device

    @torch.inference_mode()
    def __call__(self, net) -> dict:
        net.eval()
        vectors = pooled_features(net, (self.sketches.to(self.device) - self.mean) / self.std).cpu().numpy()
        hits = self.index.search(vectors, 5, "cosine")
        return {"sketch_P@5": round(precision_at_k(hits.labels, self.labels, 5), 4)}


register_trainer(TrainerSpec(
    name="sketch_encoder", title="Sketch encoder",
    description="A CNN that maps a sketch straight into the gallery descriptor's space (the portal's own sketch "
                "mode). Learns from the serving descriptor; needs `manage.py make_sketch_pairs` first.",
    config_cls=SketchEncoderConfig, run=train_sketch_encoder, dataset="sketch-pairs", produces="sketch_encoder",
    quick={"epochs": 1, "batch_size": 32, "subset": 64, "eval_queries": 20, "device": "cpu"},
    checkpoint_name=lambda config: "sketch-encoder.pt",
))
