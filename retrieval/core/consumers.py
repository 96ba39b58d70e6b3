"""The search websocket: accept a query of any registered kind, stream its result fragments
as they are ready.

Messages in (JSON): {"type": <a query kind's name>, ...its fields}, e.g. {"type": "search",
"image": "data:image/png;base64,...", "k": 10, "metric": "l2", "gallery": "fashion-mnist"}, or
{"type": "sketch", "image": ..., "mode": "encoder", ...}. Messages out: HTML fragments whose
top-level elements carry ids (and ``hx-swap-oob``), swapped into the page by htmx's ws extension.

Only the newest query is searched, whatever its kind: a query that arrives while another
runs replaces any waiting one, and a running one stops streaming stale results. Search
steps run in the thread pool (not Channels' single sync thread) so that new messages are
read meanwhile. Each kind's ``start`` (``core.kinds.QueryKind``) turns a message into the first
fragments and a ``QueryStream`` of result cards (or None).
"""

import asyncio
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings

from retrieval.core import parsers
from retrieval.core.kinds import QUERY_KINDS
from retrieval.core.runtime import warming
from retrieval.core.streams import errors_fragment

log = logging.getLogger(__name__)


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

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Size and nesting are checked before the message is parsed; each problem is said
        on the socket, which stays open for the next query."""
        size = len(text_data if text_data is not None else bytes_data or b"")
        limit = settings.PORTAL_MAX_WS_MESSAGE_BYTES
        if size > limit:
            await self.send(text_data=errors_fragment([
                f"The message is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB "
                f"(an image of at most {settings.PORTAL_MAX_UPLOAD_BYTES / 1e6:.0f} MB)."]))
            return
        if text_data is None:
            await self.send(text_data=errors_fragment(["Send queries as JSON text messages."]))
            return
        problem = parsers.depth_problem(text_data)
        if problem:
            await self.send(text_data=errors_fragment([problem]))
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):
            content = None  # answered as an unknown message
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if warming():
            await self.send(text_data=errors_fragment(["The portal is warming up: try again in a few seconds."]))
            return
        if not isinstance(content, dict) or content.get("type") not in QUERY_KINDS:
            kinds = " or ".join(f'{{"type": "{kind}", ...}}' for kind in QUERY_KINDS.names())
            await self.send(text_data=errors_fragment([f"Unknown message: expected {kinds}."]))
            return
        self.pending, self.generation = content, self.generation + 1
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._drain())

    async def _drain(self):
        while self.pending is not None:
            message, generation = self.pending, self.generation
            self.pending = None
            await self._search(message, generation)

    def _stale(self, generation: int) -> bool:
        return generation != self.generation

    async def _search(self, message: dict, generation: int):
        fragments, stream = await in_pool(QUERY_KINDS.get(message["type"]).start)(message)
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


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Any websocket path without a route: refused at the handshake (403), one log line."""

    async def connect(self):
        log.warning("websocket %s refused: no such path", json.dumps(self.scope.get("path", ""))[:200])
        await self.close()
