"""The training-run websocket through Channels' WebsocketCommunicator and the real ASGI stack:
history first, then live events from the worker; late joiners; runs that do not exist."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from portal.asgi import application
from retrieval.models import TrainingRun
from retrieval.training import services as training_services
from retrieval.training import worker as tasks
from tests.web.conftest import QUICK, needs_dataset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("one_torch_thread")]
ORIGIN = [(b"origin", b"http://testserver")]
MIDSIZE = {**QUICK, "epochs": 2, "batch_size": 16, "subset": 400}  # 50 steps: a few seconds


async def watch(run_id) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/training/{run_id}/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def until_status(communicator, statuses, limit=2000) -> list[dict]:
    messages = []
    for _ in range(limit):
        message = await communicator.receive_json_from(timeout=30)
        messages.append(message)
        if message["kind"] == "status" and message["status"] in statuses:
            return messages
    raise AssertionError(f"no status in {statuses} after {limit} messages")


create = database_sync_to_async(training_services.training_run_create)


@needs_dataset
async def test_history_then_live_events_until_the_run_finishes():
    run = await create(family="descriptor", values=MIDSIZE)  # queued, worker not woken yet
    communicator = await watch(run.pk)
    history = await communicator.receive_json_from(timeout=10)
    assert history["kind"] == "history" and history["run"] == run.pk and history["status"] == "queued"
    assert history["curve"] == [] and history["queue_position"] == 1 and history["config"]["subset"] == 400
    tasks.enqueue()
    messages = await until_status(communicator, {"finished", "failed"})
    assert messages[-1]["status"] == "finished", messages[-1]
    assert messages[-1]["final"]["P@5"] >= 0 and messages[-1]["checkpoint"].endswith(".pt")
    kinds = [m["kind"] for m in messages]
    assert kinds[0] == "status" and messages[0]["status"] == "running"
    steps = [m for m in messages if m["kind"] == "step"]
    points = [p["step"] for m in steps for p in m["points"]]
    assert points == list(range(1, 51))  # every step, in order, batched into few messages
    assert 2 <= len(steps) < 50
    assert all(set(m) >= {"step", "total_steps", "epoch", "epochs", "losses", "images_per_s", "eta_s"} for m in steps)
    epochs = [m for m in messages if m["kind"] == "epoch"]
    assert [m["epoch"] for m in epochs] == [1, 2] and "accuracy" in epochs[0]["metrics"]
    assert kinds.index("epoch") > kinds.index("step")
    await communicator.disconnect()


@needs_dataset
async def test_a_late_joiner_gets_the_history_so_far_then_the_live_stream():
    run = await database_sync_to_async(training_services.training_run_start)(family="descriptor", values=MIDSIZE)
    first = await watch(run.pk)
    assert (await first.receive_json_from(timeout=10))["kind"] == "history"
    for _ in range(600):  # wait (up to 30 s) until some progress has been saved
        row = await database_sync_to_async(TrainingRun.objects.get)(pk=run.pk)
        if len(row.curve) >= 3 and row.status == "running":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"no saved progress: {row.status} {row.error}")
    late = await watch(run.pk)
    history = await late.receive_json_from(timeout=10)
    assert history["kind"] == "history" and history["status"] == "running"
    seen = history["curve"][-1]["step"]
    assert seen >= 3 and [p["step"] for p in history["curve"]] == list(range(1, seen + 1))
    live = await until_status(late, {"finished"})
    fresh = [p["step"] for m in live if m["kind"] == "step" for p in m["points"] if p["step"] > seen]
    assert fresh == list(range(seen + 1, 51))  # history plus live covers every step once the page drops repeats
    await until_status(first, {"finished"})
    for communicator in (first, late):
        await communicator.disconnect()


async def test_a_run_that_does_not_exist_is_closed_with_a_reason():
    for path in ("/ws/training/999999/", "/ws/training/abc/"):
        communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
        connected, _ = await communicator.connect()
        assert connected  # accepted, so the reason reaches the browser
        message = await communicator.receive_json_from(timeout=5)
        assert message["kind"] == "error" and message["error"] == "not_found" and "no training run" in message["detail"]
        closing = await communicator.receive_output(timeout=5)
        assert closing["type"] == "websocket.close" and closing["code"] == 4404 and "no training run" in closing["reason"]


async def test_private_runs_are_hidden_from_visitors():
    run = await database_sync_to_async(TrainingRun.objects.create)(family="descriptor", public=False)
    communicator = await watch(run.pk)
    assert (await communicator.receive_json_from(timeout=5))["error"] == "not_found"
    assert (await communicator.receive_output(timeout=5))["code"] == 4404


async def test_the_socket_is_read_only():
    run = await database_sync_to_async(TrainingRun.objects.create)(family="descriptor")
    communicator = await watch(run.pk)
    assert (await communicator.receive_json_from(timeout=5))["kind"] == "history"
    await communicator.send_json_to({"type": "cancel"})
    assert (await communicator.receive_json_from(timeout=5))["error"] == "read_only"
    assert await database_sync_to_async(lambda: TrainingRun.objects.get(pk=run.pk).status)() == "queued"
    await communicator.disconnect()
