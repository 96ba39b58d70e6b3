"""Request threads are lent from a pool (``portal.threads``): a request's synchronous code runs
on one thread, the next request reuses it (and its database connection), requests still run
in parallel, and an executor busy with a view that outlived its client is not lent again."""

import threading
import time

import pytest
from channels.testing import HttpCommunicator

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
