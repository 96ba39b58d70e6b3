"""Training events to websocket groups through the channel layer, from any thread.

Trainers run in a worker thread (or another process); consumers run on the server's event
loop. The in-memory layer's queues belong to that loop and are not thread-safe, so an event
goes to the loop the consumers run on when this process has one (the training consumer
registers it), and otherwise to a private sender loop: a worker process on the Redis layer,
or a process where nobody listens. Each send waits for the previous one, so events arrive
in order.
"""

import asyncio
import logging
import threading

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 5.0
_server_loop: asyncio.AbstractEventLoop | None = None
_sender_loop: asyncio.AbstractEventLoop | None = None
_sender_lock = threading.Lock()


def run_group(run_id: int) -> str:
    return f"training-run-{run_id}"


def register_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called from a consumer: the loop where this process's websockets are served."""
    global _server_loop
    _server_loop = loop


def send_run_event(run_id: int, event: dict) -> None:
    """Deliver ``event`` to every socket watching run ``run_id``; never raises (progress
    reporting must not fail a training run)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "run.event", "event": event}
    loop = _target_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    try:
        if running is loop:  # called on the loop itself: waiting here would deadlock it
            loop.create_task(layer.group_send(run_group(run_id), message))
            return
        asyncio.run_coroutine_threadsafe(layer.group_send(run_group(run_id), message), loop).result(SEND_TIMEOUT_S)
    except Exception as error:  # noqa: BLE001 - a lost event is logged, the run goes on
        log.warning("training event for run %s not delivered: %r", run_id, error)


def _target_loop() -> asyncio.AbstractEventLoop:
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    return _private_loop()


def _private_loop() -> asyncio.AbstractEventLoop:
    global _sender_loop
    with _sender_lock:
        if _sender_loop is None or _sender_loop.is_closed():
            _sender_loop = asyncio.new_event_loop()
            threading.Thread(target=_sender_loop.run_forever, name="training-events", daemon=True).start()
    return _sender_loop
