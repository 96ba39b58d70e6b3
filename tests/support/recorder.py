"""A training callback that records everything it is told, for trainer tests."""

from retrieval.engine.training.callbacks import TrainingCallback


class Recorder(TrainingCallback):
    def __init__(self, stop_after: int | None = None):
        self.events, self.steps, self.epochs, self.samples = [], [], [], []
        self.start = self.result = None
        self.stop_after = stop_after

    def on_start(self, *, total_steps, config, device):
        self.events.append("start")
        self.start = {"total_steps": total_steps, "config": config, "device": device}
        self.total_steps, self.config, self.device = total_steps, config, device

    def on_step(self, info):
        self.events.append("step")
        self.steps.append(info)

    def on_epoch_end(self, info):
        self.events.append("epoch")
        self.epochs.append(info)

    def on_samples(self, *, step, images):
        self.samples.append((step, images))

    def on_finish(self, result):
        self.events.append("finish")
        self.result = result

    def should_stop(self):
        return self.stop_after is not None and len(self.steps) >= self.stop_after
