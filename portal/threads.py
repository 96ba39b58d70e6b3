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
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

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


class PooledThreadsASGIHandler(ASGIHandler):
    def __init__(self, pool: ExecutorPool | None = None):
        super().__init__()
        self.pool = pool or ExecutorPool()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's own refusal
        executor = self.pool.borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.pool.give_back(executor)
