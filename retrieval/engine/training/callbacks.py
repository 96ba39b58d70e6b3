"""The callback protocol every trainer reports through, and the plain-Python pieces of it."""

from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised inside a trainer when its callback asks it to stop; the run ends cleanly."""


@dataclass(frozen=True)
class StepInfo:
    step: int  # 1-based, over the whole run
    total_steps: int
    epoch: int  # 1-based
    epochs: int
    losses: dict[str, float]
    images_per_s: float
    eta_s: float


@dataclass(frozen=True)
class EpochInfo:
    epoch: int
    epochs: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class TrainResult:
    checkpoint: str
    metrics: dict[str, float]
    seconds: float
    device: str
    history: list[dict] = field(default_factory=list)


class TrainingCallback:
    """No-op base: override what you need. ``should_stop`` is polled once per step."""

    def on_start(self, *, total_steps: int, config: dict, device: str) -> None: ...
    def on_step(self, info: StepInfo) -> None: ...
    def on_epoch_end(self, info: EpochInfo) -> None: ...
    def on_samples(self, *, step: int, images) -> None: ...
    def on_finish(self, result: TrainResult) -> None: ...
    def should_stop(self) -> bool:
        return False


class CallbackList(TrainingCallback):
    def __init__(self, *callbacks: TrainingCallback):
        self.callbacks = [c for c in callbacks if c is not None]

    def on_start(self, **kwargs) -> None:
        for c in self.callbacks:
            c.on_start(**kwargs)

    def on_step(self, info: StepInfo) -> None:
        for c in self.callbacks:
            c.on_step(info)

    def on_epoch_end(self, info: EpochInfo) -> None:
        for c in self.callbacks:
            c.on_epoch_end(info)

    def on_samples(self, **kwargs) -> None:
        for c in self.callbacks:
            c.on_samples(**kwargs)

    def on_finish(self, result: TrainResult) -> None:
        for c in self.callbacks:
            c.on_finish(result)

    def should_stop(self) -> bool:
        return any(c.should_stop() for c in self.callbacks)
