"""Pieces every trainer shares: step timing and ETA, cancellation, reproducible seeding."""

import time
from pathlib import Path

import torch

from ..fileio import atomic_path, atomic_write_json, file_digest
from .callbacks import Cancelled, StepInfo, TrainingCallback


def one_cycle(optimiser, max_lr: float, total_steps: int, pct_start: float = 0.2):
    """OneCycleLR, safe for runs of any length: it divides by pct_start * total_steps - 1, so
    a warm-up of exactly one step (e.g. 20% of a 5-step run) would divide by zero."""
    if abs(pct_start * total_steps - 1) < 1e-9:
        pct_start += 0.1
    return torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start)


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def save_checkpoint(out_path: Path | str, checkpoint: dict, record: dict) -> str:
    """Write a checkpoint, then a JSON record of it (configuration, metrics ...) beside it, both
    atomically; returns the checkpoint's id (its content digest, as loaders compute it)."""
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        torch.save(checkpoint, tmp)
    checkpoint_id = file_digest(out_path)
    atomic_write_json(out_path.with_suffix(".json"), {"checkpoint": out_path.name, "checkpoint_id": checkpoint_id, **record})
    return checkpoint_id


def seed_torch(seed: int) -> None:
    """Seed torch's generator (weight initialisation). Python's and NumPy's global generators
    are left alone: a trainer shares its process with the web server, whose in-memory channel
    layer names websocket channels with ``random`` (reseeding it made two sockets share one
    name). Trainers draw everything else from their own seeded generators."""
    torch.manual_seed(seed)


class StepClock:
    """Turns raw step events into ``StepInfo`` with a smoothed throughput and an ETA."""

    def __init__(self, total_steps: int, epochs: int, callback: TrainingCallback):
        self.total_steps, self.epochs, self.callback = total_steps, epochs, callback
        self.step = 0
        self.started = self._last = time.perf_counter()
        self._rate: float | None = None

    def tick(self, *, epoch: int, batch_size: int, losses: dict[str, float]) -> StepInfo:
        now = time.perf_counter()
        rate = batch_size / max(now - self._last, 1e-9)
        self._rate = rate if self._rate is None else 0.9 * self._rate + 0.1 * rate
        self._last = now
        self.step += 1
        remaining = self.total_steps - self.step
        info = StepInfo(step=self.step, total_steps=self.total_steps, epoch=epoch, epochs=self.epochs,
                        losses=losses, images_per_s=round(self._rate, 1),
                        eta_s=round(remaining * batch_size / max(self._rate, 1e-9), 1))
        self.callback.on_step(info)
        if self.callback.should_stop():
            raise Cancelled(f"cancelled at step {self.step} of {self.total_steps}")
        return info

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
