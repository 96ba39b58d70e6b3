"""Django's ASGI handler with request threads that are kept and reused.

Django runs each request's synchronous code (middleware, views) in a thread of its own: a new
``ThreadSensitiveContext`` per request, and asgiref makes a new one-thread executor for each
context. So every request started a thread and, since database connections belong to a
thread, opened a new SQLite connection (registering Django's SQL functions, running the WAL
pragma) and closed it at the end: measured with py-spy, about a tenth of a small search's
time in the server. Here a request borrows an idle one-thread executor instead; its thread
keeps its connection between requests (``CONN_MAX_AGE``). One request still runs on one
thread, and requests still run in parallel: a new executor is made when none is idle, and
only ``idle`` of them are kept.

Small requests (bodies up to ``HEAVY_BYTES``) also take one of ``REQUEST_SLOTS`` slots first,
waiting for one in arrival order. Twenty searches at once on two cores otherwise run in twenty
threads that take turns with the GIL: each one's time stretches to the time of all, and the
slowest answers come last. Measured with two processes, 20 clients (`bench/search_latency.py`):
searches/s 82 / 77 against 60 / 68 without the slots, p99 489 / 389 ms against 541 / 558 ms.
A request that turns out to carry a heavy image gives its slot back before it waits for the
heavy decode lane (``retrieval.core.admission.request_slot``).

The middleware runs in the request's thread, as under WSGI, in one hop from the event loop.
Django's ASGI handler builds an async chain instead, and the portal's sync-only middlewares
split it: the middlewares inside them ran async, on the loop, and the view was a second hop
back through the loop to the request thread; py-spy showed the hand-offs
(``call_soon_threadsafe``, condition waits) as a large share of a small search's server time.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from retrieval.core.admission import request_slot

IDLE_THREADS = 16


class ExecutorPool:
    """One-thread executors to lend; an executor comes back once the work queued on it is done."""

    def __init__(self, idle: int = IDLE_THREADS):
        self.idle = idle
        self._free: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()
        self.made = 0

    def borrow(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._free:
                return self._free.pop()  # the most recently used: its thread and connection are warm
            self.made += 1
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        # A view still running for a client that went away is not cancelled: the executor returns
        # after it, so the next request never queues behind someone else's work.
        executor.submit(_nothing).add_done_callback(lambda _: self._returned(executor))

    def _returned(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._free) < self.idle:
                self._free.append(executor)
                return
        executor.submit(_close_connections)  # a thread not kept leaves no open connection behind
        executor.shutdown(wait=False)

    def free_count(self) -> int:
        with self._lock:
            return len(self._free)


def _nothing() -> None:
    return None


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


class RequestSlot:
    """One request's slot: given back once, from the request's thread or the event loop."""

    def __init__(self, semaphore: asyncio.Semaphore):
        self._semaphore, self._loop = semaphore, asyncio.get_running_loop()
        self._held, self._lock = True, threading.Lock()

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._loop.call_soon_threadsafe(self._semaphore.release)  # asyncio's semaphore is the loop's alone


class PooledThreadsASGIHandler(ASGIHandler):
    def __init__(self, pool: ExecutorPool | None = None, slots: int | None = None):
        super().__init__()
        self.pool = pool or ExecutorPool()
        slots = settings.REQUEST_SLOTS if slots is None else slots
        self.slots = asyncio.Semaphore(slots) if slots > 0 else None
        self.small_bytes = settings.RETRIEVAL["ADMISSION"]["HEAVY_BYTES"]

    def load_middleware(self, is_async=False):
        # The whole chain sync, views included (there are no async views), entered once per
        # request: ``get_response_async`` awaits the chain, so the chain is that one hop.
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's own refusal
        if self.slots is None or content_length(scope) > self.small_bytes:
            return await self._handle(scope, receive, send)
        await self.slots.acquire()
        slot = RequestSlot(self.slots)
        token = request_slot.set(slot.release)
        try:
            return await self._handle(scope, receive, send)
        finally:
            request_slot.reset(token)
            slot.release()

    async def _handle(self, scope, receive, send):
        executor = self.pool.borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.pool.give_back(executor)


def content_length(scope) -> int:
    """The request's declared body size (0 without one; unreadable counts as huge)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 1 << 62
    return 0
