"""Request threads are lent from a pool (``portal.threads``): a request's synchronous code runs
on one thread, the next request reuses it (and its database connection), requests still run
in parallel, and an executor busy with a view that outlived its client is not lent again."""

import threading
import time
from inspect import iscoroutinefunction

import pytest
from channels.testing import HttpCommunicator
from django.utils.decorators import sync_and_async_middleware

from portal.threads import ExecutorPool, PooledThreadsASGIHandler


def test_an_executor_comes_back_after_its_work_and_is_lent_again():
    pool = ExecutorPool(idle=2)
    first = pool.borrow()
    pool.give_back(first)
    assert _eventually(lambda: pool.free_count() == 1)
    assert pool.borrow() is first and pool.made == 1


def test_a_busy_executor_returns_only_when_its_work_is_done():
    pool, release = ExecutorPool(idle=2), threading.Event()
    busy = pool.borrow()
    busy.submit(release.wait, 5)  # a view still running for a client that left
    pool.give_back(busy)
    assert pool.free_count() == 0 and pool.borrow() is not busy  # the next request gets another thread
    release.set()
    assert _eventually(lambda: pool.free_count() == 1)


def test_only_idle_executors_are_kept():
    pool = ExecutorPool(idle=1)
    lent = [pool.borrow() for _ in range(3)]
    for executor in lent:
        pool.give_back(executor)
    assert _eventually(lambda: pool.free_count() == 1 and sum(e._shutdown for e in lent) == 2)


@pytest.mark.django_db(transaction=True)
async def test_requests_through_the_handler_reuse_one_thread():
    handler = PooledThreadsASGIHandler(ExecutorPool(idle=4))
    seen = []
    for _ in range(3):
        response = await HttpCommunicator(handler, "GET", "/api/galleries/", headers=[(b"host", b"127.0.0.1")]).get_response()
        assert response["status"] == 200
        seen.append(handler.pool.made)
        await _async_eventually(lambda: handler.pool.free_count() == 1)
    assert seen == [1, 1, 1]


def _eventually(check, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


async def _async_eventually(check, timeout_s: float = 5.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert check()


class SlotProbe(PooledThreadsASGIHandler):
    """The handler's slot logic around a stand-in for Django: each request holds for a while
    (giving its slot back first when its path says it carries a heavy image)."""

    def __init__(self, slots: int):
        super().__init__(ExecutorPool(idle=2), slots=slots)
        self.active = self.peak = 0

    async def handle(self, scope, receive, send):
        import asyncio

        from retrieval.core.admission import give_back_request_slot

        if scope["path"] == "/heavy/":
            give_back_request_slot()  # as the decode gate does for a heavy image
        self.active += 1
        self.peak = max(self.peak, self.active)
        await asyncio.sleep(0.2)
        self.active -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _concurrently(handler, requests):
    import asyncio

    async def one(path, size):
        headers = [(b"host", b"127.0.0.1"), (b"content-length", str(size).encode())]
        body = b"x" * size if size < 1024 else b""
        return await HttpCommunicator(handler, "POST", path, body=body, headers=headers).get_response(timeout=10)

    return await asyncio.gather(*(one(path, size) for path, size in requests))


async def test_small_requests_take_turns_in_the_slots():
    handler = SlotProbe(slots=2)
    responses = await _concurrently(handler, [("/small/", 10)] * 6)
    assert [r["status"] for r in responses] == [200] * 6 and handler.peak == 2


async def test_large_bodies_and_heavy_images_do_not_hold_a_slot():
    handler = SlotProbe(slots=1)
    large = handler.small_bytes + 1  # declared only: the stand-in never reads the body
    await _concurrently(handler, [("/small/", 10), ("/large/", large), ("/large/", large)])
    assert handler.peak == 3  # the large ones did not wait for the one slot
    handler.peak = 0
    await _concurrently(handler, [("/heavy/", 10)] * 3)
    assert handler.peak == 3  # each gave its slot back: none waited behind another
    handler.peak = 0
    await _concurrently(handler, [("/small/", 10)] * 2)
    assert handler.peak == 1  # still one slot: given back early, then at the end, it counted once


async def test_no_slots_means_no_limit():
    handler = SlotProbe(slots=0)
    await _concurrently(handler, [("/small/", 10)] * 4)
    assert handler.peak == 4



SEEN_MODES: list[tuple[str, int]] = []


@sync_and_async_middleware
def chain_probe(get_response):
    """The innermost middleware, built in whichever mode the chain below it asks for: Django's
    async chain would make it async, its request half on the event loop, its view a hop away."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            SEEN_MODES.append(("async", threading.get_ident()))
            return await get_response(request)

        return middleware

    def middleware(request):
        SEEN_MODES.append(("sync", threading.get_ident()))
        return get_response(request)

    return middleware


@pytest.mark.django_db(transaction=True)
async def test_the_whole_middleware_chain_runs_on_the_request_thread(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.chain_probe"]
    handler, SEEN_MODES[:] = PooledThreadsASGIHandler(ExecutorPool(idle=2)), []
    response = await HttpCommunicator(handler, "GET", "/api/galleries/", headers=[(b"host", b"127.0.0.1")]).get_response()
    assert response["status"] == 200
    ((mode, ident),) = SEEN_MODES
    assert mode == "sync" and ident != threading.get_ident()  # in the request thread, not the loop's
