"""The Channels reporter on its own, with a fake clock: how often it sends and saves, what a
late joiner finds in the row, samples, cancellation, and the event bridge across threads."""

import asyncio
import base64
import io
import threading

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.training.callbacks import EpochInfo, StepInfo, TrainResult
from retrieval.models import TrainingRun
from retrieval.training import events, progress
from retrieval.training.presenters import sample_grid_data_url

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(progress, "send_run_event", lambda run_id, event: messages.append(event))
    return messages


def step(n: int, total: int = 50) -> StepInfo:
    return StepInfo(step=n, total_steps=total, epoch=1 + (n - 1) // 25, epochs=2, losses={"ce": 3.0 / n},
                    images_per_s=250.0, eta_s=float(total - n))


def test_steps_are_batched_into_few_events_and_the_row_holds_every_point_sent(sent):
    run = TrainingRun.objects.create(family="descriptor", status="running")
    clock = FakeClock()
    reporter = progress.ChannelsProgress(run.pk, clock=clock)
    reporter.on_start(total_steps=50, config={"epochs": 2}, device="cpu")
    assert sent[-1]["kind"] == "status" and sent[-1]["device"] == "cpu"
    for n in range(1, 25):  # 24 steps, 20 ms apart: 0.5 s
        clock.now += 0.02
        reporter.on_step(step(n))
    steps = [e for e in sent if e["kind"] == "step"]
    assert 2 <= len(steps) <= 3  # about four a second
    last_sent = steps[-1]["step"]
    assert [p["step"] for e in steps for p in e["points"]] == list(range(1, last_sent + 1))  # none lost
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.device == "cpu" and row.progress["step"] == last_sent < 24  # saved with the last send, not per step
    assert [p["step"] for p in row.curve] == list(range(1, last_sent + 1))  # what a late joiner gets: all sent so far
    clock.now += 1.0
    reporter.on_step(step(25))
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.progress["step"] == 25 and [p["step"] for p in row.curve] == list(range(1, 26))
    reporter.on_epoch_end(EpochInfo(epoch=1, epochs=2, metrics={"accuracy": 0.5}))
    assert {k: v for k, v in sent[-1].items() if k != "progress"} == {
        "run": run.pk, "kind": "epoch", "epoch": 1, "metrics": {"epoch": 1, "accuracy": 0.5}}
    assert TrainingRun.objects.get(pk=run.pk).history == [{"epoch": 1, "accuracy": 0.5}]
    reporter.on_step(step(49))
    clock.now += 1.0
    reporter.on_step(step(50))  # the last step always goes out at once
    assert [e["kind"] for e in sent[-2:]] == ["step", "phase"] and sent[-2]["step"] == 50


def test_the_pause_after_an_epoch_is_named_and_timed(sent):
    """Between an epoch's last step and its end the trainer evaluates: the reporter says so
    at once, has no estimate the first time, and counts the measured pause in later ETAs."""
    run = TrainingRun.objects.create(family="descriptor", status="running")
    clock = FakeClock()
    reporter = progress.ChannelsProgress(run.pk, clock=clock)
    reporter.on_start(total_steps=50, config={"epochs": 2}, device="cpu")
    for n in range(1, 26):
        reporter.on_step(step(n))
    assert sent[-1]["kind"] == "phase" and sent[-1]["progress"]["phase"] == "evaluating"
    assert sent[-1]["progress"]["eta_s"] is None  # nothing measured yet: no made-up number
    assert TrainingRun.objects.get(pk=run.pk).progress["phase"] == "evaluating"  # a reload sees it too
    clock.now += 12.0  # the evaluation takes 12 s
    reporter.on_epoch_end(EpochInfo(epoch=1, epochs=2, metrics={"accuracy": 0.5}))
    assert reporter.eval_s == 12.0
    reporter.on_step(step(26))
    assert reporter.progress["phase"] == "training" and reporter.progress["eta_covers_evaluation"]
    assert reporter.progress["eta_s"] == 24.0 + 12.0  # the steps left (from the trainer) and one more evaluation
    for n in range(27, 51):
        reporter.on_step(step(n))
    assert sent[-1]["progress"]["phase"] == "evaluating" and sent[-1]["progress"]["eta_s"] == 12.0
    reporter.on_epoch_end(EpochInfo(epoch=2, epochs=2, metrics={"accuracy": 0.6}))
    assert sent[-1]["progress"]["phase"] == "finishing" and sent[-1]["progress"]["eta_s"] == 0


def test_close_records_the_end_and_tells_the_watchers(sent, tmp_path):
    run = TrainingRun.objects.create(family="descriptor", status="running")
    reporter = progress.ChannelsProgress(run.pk)
    reporter.on_start(total_steps=2, config={"epochs": 1}, device="cpu")
    reporter.on_step(step(1, total=2))
    checkpoint = tmp_path / "m.pt"
    checkpoint.write_bytes(b"weights")
    result = TrainResult(str(checkpoint), {"accuracy": 0.9}, 3.5, "cpu", [{"epoch": 1, "accuracy": 0.9}])
    reporter.close("finished", result=result)
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.status == "finished" and row.final_metrics == {"accuracy": 0.9} and row.train_seconds == 3.5
    assert row.checkpoint == str(checkpoint) and len(row.checkpoint_id) == 16 and row.finished is not None
    assert sent[-1]["kind"] == "status" and sent[-1]["status"] == "finished" and sent[-1]["final"] == {"accuracy": 0.9}


def test_samples_are_tiled_saved_and_sent(sent):
    run = TrainingRun.objects.create(family="sketch-gan", status="running")
    reporter = progress.ChannelsProgress(run.pk)
    images = np.random.default_rng(0).integers(0, 255, (10, 16, 16, 3), dtype=np.uint8)
    reporter.on_samples(step=5, images=images)
    assert sent[-1]["kind"] == "samples" and sent[-1]["step"] == 5
    assert TrainingRun.objects.get(pk=run.pk).samples == sent[-1]["image"]
    grid = Image.open(io.BytesIO(base64.b64decode(sent[-1]["image"].split(",", 1)[1])))
    assert grid.size == (8 * 18, 2 * 18) and grid.mode == "RGB"  # 8 columns, 1 px border around each tile
    assert sample_grid_data_url([np.zeros((4, 4), np.uint8)]).startswith("data:image/png;base64,")
    assert sample_grid_data_url([]) == ""


def test_should_stop_sees_a_cancel_from_this_or_another_process(monkeypatch):
    monkeypatch.setattr(progress, "_cancelled_here", set())  # rolled-back ids come back: forget this test's
    run = TrainingRun.objects.create(family="descriptor", status="running")
    clock = FakeClock()
    reporter = progress.ChannelsProgress(run.pk, clock=clock)
    assert not reporter.should_stop()
    TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)  # another process asked
    assert not reporter.should_stop()  # polled at most every POLL_CANCEL_EVERY_S ...
    clock.now += progress.POLL_CANCEL_EVERY_S
    assert reporter.should_stop()  # ... then seen
    other = progress.ChannelsProgress(TrainingRun.objects.create(family="descriptor").pk, clock=clock)
    other.should_stop()
    progress.request_stop_here(other.run_id)  # a request in this process: no need to wait for the poll
    assert other.should_stop()


async def test_events_from_a_worker_thread_reach_a_group_on_the_server_loop():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(events.run_group(7), channel)
    events.register_server_loop(asyncio.get_running_loop())
    thread = threading.Thread(target=lambda: [events.send_run_event(7, {"n": n}) for n in range(3)])
    thread.start()
    received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(3)]
    await asyncio.to_thread(thread.join)  # not thread.join(): the sender waits on this very loop
    assert [m["event"] for m in received] == [{"n": 0}, {"n": 1}, {"n": 2}]  # in order
    assert all(m["type"] == "run.event" for m in received)
    await layer.group_discard(events.run_group(7), channel)
