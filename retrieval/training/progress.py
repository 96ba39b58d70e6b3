"""The Channels reporter: a trainer callback that streams a run's progress to its websocket
group and keeps its database row current, so that late joiners get the history so far.

Live step events go out at most ``SEND_EVERY_S`` apart, each carrying every loss point
since the previous one. The row is rewritten just before each of them, at every epoch end and
at the end: a late joiner subscribes first and then reads the row, so the row must already
hold every point that was sent before it subscribed, or those points are lost to it. Only
the row's progress columns are written (``update``, never ``save``), so a cancel request
written meanwhile by a request is never overwritten.

Every trainer evaluates on held-out data after an epoch's last step and before
``on_epoch_end``, a pause with no steps. The reporter names it: ``progress["phase"]`` is
"training", "evaluating" (from an epoch's last step to its end) or "finishing" (after the last
epoch, while the checkpoint is written). It times each evaluation, and its ETA adds the
evaluations still to come at the last measured duration; before one has been measured the
evaluation part is unknown, and ``eta_s`` is None while evaluating ("no estimate yet").
"""

import time

from django.utils import timezone

from retrieval.engine.fileio import file_digest
from retrieval.engine.training.callbacks import EpochInfo, StepInfo, TrainingCallback, TrainResult
from retrieval.models import TrainingRun
from retrieval.training.events import send_run_event
from retrieval.training.presenters import public_path, sample_grid_data_url, without_paths

SEND_EVERY_S = 0.25  # four curve updates a second, each one row update
SAVE_EVERY_S = 1.0  # the re-indexing progress
POLL_CANCEL_EVERY_S = 0.25
CURVE_POINTS = 2000
_cancelled_here: set[int] = set()  # runs cancelled by a request in this process: no need to wait for a poll


def request_stop_here(run_id: int) -> None:
    _cancelled_here.add(run_id)


class Curve:
    """Loss points at a uniform stride that doubles whenever ``limit`` is reached, so a long
    run keeps an evenly thinned curve of bounded size (the newest point is always kept)."""

    def __init__(self, limit: int = CURVE_POINTS, points: list[dict] | None = None):
        self.limit, self.stride = limit, 1
        self.points: list[dict] = list(points or [])
        self.latest: dict | None = None

    def add(self, point: dict) -> None:
        self.latest = point
        if point["step"] % self.stride:
            return
        self.points.append(point)
        if len(self.points) > self.limit:
            self.stride *= 2
            self.points = [p for p in self.points if p["step"] % self.stride == 0]

    def snapshot(self) -> list[dict]:
        if self.latest is not None and (not self.points or self.points[-1]["step"] != self.latest["step"]):
            return [*self.points, self.latest]
        return list(self.points)


class ChannelsProgress(TrainingCallback):
    def __init__(self, run_id: int, *, clock=time.monotonic):
        self.run_id, self.clock = run_id, clock
        self.curve = Curve()
        self.pending: list[dict] = []
        self.progress: dict = {}
        self.history: list[dict] = []
        self._sent = self._saved = self._polled = float("-inf")
        self._stop = False
        self._eval_started: float | None = None
        self.eval_s: float | None = None  # the last evaluation's measured duration

    # --- the callback protocol ---

    def on_start(self, *, total_steps: int, config: dict, device: str) -> None:
        self.progress = {"step": 0, "total_steps": total_steps, "epoch": 0, "epochs": config.get("epochs"),
                         "losses": {}, "images_per_s": None, "eta_s": None, "phase": "training", "eval_s": None}
        self._save(device=device)
        self._send({"kind": "status", "status": TrainingRun.Status.RUNNING, "device": device, "progress": self.progress})

    def on_step(self, info: StepInfo) -> None:
        point = {"step": info.step, "losses": info.losses}
        self.curve.add(point)
        self.pending.append(point)
        evals_left = info.epochs - info.epoch + 1
        self.progress = {"step": info.step, "total_steps": info.total_steps, "epoch": info.epoch, "epochs": info.epochs,
                         "losses": info.losses, "images_per_s": info.images_per_s, "phase": "training",
                         "eta_s": info.eta_s if self.eval_s is None else round(info.eta_s + evals_left * self.eval_s, 1),
                         "eta_covers_evaluation": self.eval_s is not None, "eval_s": self.eval_s}
        now = self.clock()
        if now - self._sent >= SEND_EVERY_S or info.step == info.total_steps:
            self._flush_steps()
        if info.epochs and info.step * info.epochs % info.total_steps == 0:  # the epoch's last step
            self._evaluating(now, evals_left)

    def _evaluating(self, now: float, evals_left: int) -> None:
        self._eval_started = now
        eta = None if self.eval_s is None else round(evals_left * self.eval_s, 1)
        self.progress = {**self.progress, "phase": "evaluating", "eta_s": eta, "eta_covers_evaluation": eta is not None,
                         "phase_since": time.time()}  # wall time: pages count down from it
        self._flush_steps()
        self._save()
        self._send({"kind": "phase", "progress": self.progress})

    def on_epoch_end(self, info: EpochInfo) -> None:
        now = self.clock()
        if self._eval_started is not None:
            self.eval_s, self._eval_started = round(now - self._eval_started, 1), None
        self._flush_steps()
        row = {"epoch": info.epoch, **info.metrics}
        self.history.append(row)
        if info.epoch >= info.epochs:
            # Only the checkpoint is left to write: nothing worth estimating.
            self.progress = {**self.progress, "phase": "finishing", "eta_s": 0.0, "eta_covers_evaluation": True,
                             "eval_s": self.eval_s}
        self._save()
        self._send({"kind": "epoch", "epoch": info.epoch, "metrics": row, "progress": self.progress})

    def on_samples(self, *, step: int, images) -> None:
        image = sample_grid_data_url(images)
        self._save(samples=image)
        self._send({"kind": "samples", "step": step, "image": image})

    def on_finish(self, result: TrainResult) -> None:
        self._flush_steps()

    def should_stop(self) -> bool:
        if not self._stop and self.run_id in _cancelled_here:
            self._stop = True
        now = self.clock()
        if not self._stop and now - self._polled >= POLL_CANCEL_EVERY_S:
            self._polled = now
            self._stop = TrainingRun.objects.filter(pk=self.run_id, cancel_requested=True).exists()
        return self._stop

    # --- the end of a run (called by the service that ran it) ---

    def close(self, status: str, *, result: TrainResult | None = None, error: str = "") -> None:
        self._flush_steps()
        fields = {"status": status, "finished": timezone.now(), "error": error}
        error = without_paths(error)
        if result is not None:
            fields.update(final_metrics=result.metrics, train_seconds=result.seconds, device=result.device,
                          checkpoint=result.checkpoint, checkpoint_id=file_digest(result.checkpoint))
        self._save(**fields)
        _cancelled_here.discard(self.run_id)
        self._send({"kind": "status", "status": status, "error": error, "final": fields.get("final_metrics", {}),
                    "train_seconds": fields.get("train_seconds"), "checkpoint": public_path(fields.get("checkpoint", ""))})

    # --- plumbing ---

    def _flush_steps(self) -> None:
        if self.pending:
            self._save()  # before the send: see the module's docstring
            self._send({"kind": "step", **self.progress, "points": self.pending})
            self.pending = []
        self._sent = self.clock()

    def _save(self, **fields) -> None:
        self._saved = self.clock()
        TrainingRun.objects.filter(pk=self.run_id).update(
            progress=self.progress, curve=self.curve.snapshot(), history=self.history, heartbeat=timezone.now(), **fields)

    def _send(self, event: dict) -> None:
        send_run_event(self.run_id, {"run": self.run_id, **event})
