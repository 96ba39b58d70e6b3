"""The command-line training callback: a tqdm progress bar plus one line per epoch."""

from tqdm import tqdm

from retrieval.engine.training.callbacks import EpochInfo, StepInfo, TrainingCallback, TrainResult


class ConsoleProgress(TrainingCallback):
    def __init__(self, stream):
        self.stream = stream
        self.bar: tqdm | None = None

    def on_start(self, *, total_steps: int, config: dict, device: str) -> None:
        self.stream.write(f"training on {device}: {config}")
        self.bar = tqdm(total=total_steps, unit="step", dynamic_ncols=True, file=self.stream._out)

    def on_step(self, info: StepInfo) -> None:
        self.bar.set_postfix(epoch=f"{info.epoch}/{info.epochs}", img_s=f"{info.images_per_s:.0f}", **info.losses)
        self.bar.update(1)

    def on_epoch_end(self, info: EpochInfo) -> None:
        self.bar.write(f"epoch {info.epoch}/{info.epochs}: " + ", ".join(f"{k}={v}" for k, v in info.metrics.items()))

    def on_finish(self, result: TrainResult) -> None:
        self.bar.close()
