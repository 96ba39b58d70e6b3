"""Websocket consumers: the search (accept a query, stream result fragments as they are
ready) and the training-run watcher (see ``TrainingRunConsumer``).

Search messages in (JSON): {"type": "search", "image": "data:image/png;base64,...", "k": 10,
"metric": "l2", "gallery": "fashion-mnist"}. Messages out: HTML fragments whose top-level
elements carry ids (and ``hx-swap-oob``), swapped into the page by htmx's ws extension.

Only the newest query is searched: a query that arrives while another runs replaces any
waiting one, and a running one stops streaming stale results. Search steps run in the
thread pool (not Channels' single sync thread) so that new messages are read meanwhile.
"""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string

from . import selectors, services
from .engine.errors import EngineError
from .errors import user_error
from .events import register_server_loop, run_group
from .forms import ImageSearchForm
from .models import GalleryImage, TrainingRun
from .presenters import query_preview


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
        if not isinstance(content, dict) or content.get("type") != "search":
            await self.send(text_data=_errors_fragment(['Unknown message: expected {"type": "search", ...}.']))
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
        fragments, outcome = await in_pool(_start_search)(message)
        await self.send(text_data=fragments)
        if outcome is None:
            return
        gallery, query, metric, example = outcome
        cards = services.explain_hits(query.decoded.image, query.hits)
        shown = 0
        while not self._stale(generation):
            card = await in_pool(_next_card)(cards, example)
            if card is None:
                break
            shown += 1
            await self.send(text_data=card)
        if not self._stale(generation):
            await self.send(text_data=render_to_string("retrieval/_status.html", {
                "state": "done", "count": shown, "preview": query_preview(query), "metric": metric}))


def _start_search(message: dict) -> tuple[str, tuple | None]:
    """Validate and run the query; return the first fragments and what the cards need."""
    form = ImageSearchForm({key: message.get(key) for key in ("k", "metric", "gallery")} | {
        "image_data": message.get("image") or ""})
    if not form.is_valid():
        return _errors_fragment([e for errs in form.errors.values() for e in errs]), None
    gallery = form.cleaned_data["gallery"]
    try:
        query = services.image_query(gallery=gallery, data=form.cleaned_data["image_bytes"],
                                     k=form.cleaned_data["k"], metric=form.cleaned_data["metric"])
    except EngineError as error:
        return _errors_fragment([user_error(error).message]), None
    example = _example(message.get("example"), gallery)
    html = render_to_string("retrieval/_search_results.html", {
        "form": form, "outcome": None, "streaming": True, "preview": query_preview(query), "example": example,
        "k": form.cleaned_data["k"], "metric": form.cleaned_data["metric"], "oob": True,
    })
    return html, (gallery, query, form.cleaned_data["metric"], example)


def _next_card(cards, example) -> str | None:
    item = next(cards, None)
    if item is None:
        return None
    return render_to_string("retrieval/_result_card.html", {"item": item, "example": example, "oob": True})


def _example(value, gallery) -> GalleryImage | None:
    """The labelled test image a query came from, when the page says so (display only)."""
    if not str(value or "").isdigit():
        return None
    return GalleryImage.objects.filter(pk=int(value), gallery=gallery).first()


def _errors_fragment(messages: list[str]) -> str:
    return render_to_string("retrieval/_errors.html", {"messages": messages, "oob": True})


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
