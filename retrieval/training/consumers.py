"""The training-run watcher: a run's history, then its live progress."""

import asyncio

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from retrieval.core.consumers import in_pool
from retrieval.models import TrainingRun
from retrieval.training import selectors
from retrieval.training.events import register_server_loop, run_group


class TrainingRunConsumer(AsyncJsonWebsocketConsumer):
    """Watch one training run: join its group first, then send everything persisted so far
    (a "history" message), then relay live events. Events already covered by the history
    may arrive after it; the page drops steps at or below the history's last step.

    A run that does not exist (or is not public, for visitors who are not staff) gets an
    error message and the socket closed with code 4404 and a reason.
    """

    NOT_FOUND = 4404

    async def connect(self):
        register_server_loop(asyncio.get_running_loop())
        raw = str(self.scope["url_route"]["kwargs"]["run_id"])
        self.group = None
        await self.accept()
        run = await in_pool(_visible_run)(raw, self.scope.get("user"))
        if run is None:
            detail = f"There is no training run {raw!r} to watch."
            await self.send_json({"kind": "error", "error": "not_found", "detail": detail})
            await self.close(code=self.NOT_FOUND, reason=detail)
            return
        self.group = run_group(run.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(await in_pool(_history)(run.pk))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        await self.send_json({"kind": "error", "error": "read_only", "detail": "This socket only reports progress."})

    async def run_event(self, message):
        await self.send_json(message["event"])


def _visible_run(raw: str, user) -> TrainingRun | None:
    if not raw.isdigit():
        return None
    return selectors.training_run_for(user=user, pk=int(raw))


def _history(run_id: int) -> dict:
    return selectors.training_run_state(TrainingRun.objects.get(pk=run_id))
