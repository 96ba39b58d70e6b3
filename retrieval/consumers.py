"""Websocket consumers: the search (accept a query, stream result fragments as they are
ready) and the training-run watcher (see ``TrainingRunConsumer``).

Search messages in (JSON): {"type": "search", "image": "data:image/png;base64,...", "k": 10,
"metric": "l2", "gallery": "fashion-mnist"}, or a drawing: {"type": "sketch", "image": ...,
"mode": "encoder", ...} (see ``sketch_views.start_sketch_query``). Messages out: HTML
fragments whose top-level elements carry ids (and ``hx-swap-oob``), swapped into the page by
htmx's ws extension.

Only the newest query is searched, whatever its kind: a query that arrives while another
runs replaces any waiting one, and a running one stops streaming stale results. Search
steps run in the thread pool (not Channels' single sync thread) so that new messages are
read meanwhile. Each kind of query is one function, message -> (first fragments, a
``QueryStream`` of result cards or None), in ``QUERY_KINDS``.
"""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string

from . import degraded_views, selectors, services, sketch_views
from .engine.errors import EngineError
from .errors import user_error
from .events import register_server_loop, run_group
from .forms import ImageSearchForm, form_messages
from .models import TrainingRun
from .presenters import query_preview
from .streams import QueryStream, result_card
from .streams import errors_fragment as _errors_fragment


def in_pool(function):
    return database_sync_to_async(function, thread_sensitive=False)


class SearchConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.pending: dict | None = None
        self.generation = 0
        self.worker: asyncio.Task | None = None
        await self.accept()

    async def disconnect(self, code):
        if self.worker:
            self.worker.cancel()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") not in QUERY_KINDS:
            kinds = " or ".join(f'{{"type": "{kind}", ...}}' for kind in QUERY_KINDS)
            await self.send(text_data=_errors_fragment([f"Unknown message: expected {kinds}."]))
            return
        self.pending, self.generation = content, self.generation + 1
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._drain())

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def _drain(self):
        while self.pending is not None:
            message, generation = self.pending, self.generation
            self.pending = None
            await self._search(message, generation)

    def _stale(self, generation: int) -> bool:
        return generation != self.generation

    async def _search(self, message: dict, generation: int):
        fragments, stream = await in_pool(QUERY_KINDS[message["type"]])(message)
        await self.send(text_data=fragments)
        if stream is None:
            return
        shown = 0
        while not self._stale(generation):
            card = await in_pool(stream.next_card)()
            if card is None:
                break
            shown += 1
            await self.send(text_data=card)
        if not self._stale(generation):
            await self.send(text_data=await in_pool(stream.done)(shown))


def _start_search(message: dict) -> tuple[str, QueryStream | None]:
    """Validate and run the query; return the first fragments and what the cards need."""
    form = ImageSearchForm({key: message.get(key) for key in ("k", "metric", "gallery")} | {
        "image_data": message.get("image") or ""})
    if not form.is_valid():
        return _errors_fragment(form_messages(form)), None
    gallery = form.cleaned_data["gallery"]
    try:
        query = services.image_query(gallery=gallery, data=form.cleaned_data["image_bytes"],
                                     k=form.cleaned_data["k"], metric=form.cleaned_data["metric"])
    except EngineError as error:
        return _errors_fragment([user_error(error).message]), None
    example = selectors.example_image(message.get("example"), gallery)
    html = render_to_string("retrieval/_search_results.html", {
        "form": form, "outcome": None, "streaming": True, "preview": query_preview(query), "example": example,
        "k": form.cleaned_data["k"], "metric": form.cleaned_data["metric"], "oob": True,
    })
    metric = form.cleaned_data["metric"]
    return html, QueryStream(
        items=services.explain_hits(query.decoded.image, query.hits),
        card=lambda item: result_card(item, example=example),
        done=lambda shown: render_to_string("retrieval/_status.html", {
            "state": "done", "count": shown, "preview": query_preview(query), "metric": metric}))



QUERY_KINDS = {"search": _start_search, "sketch": sketch_views.start_sketch_query,
               "degrade": degraded_views.start_degraded_query}


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
