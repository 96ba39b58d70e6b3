"""Admission: bounded concurrent decodes, a bounded queue, then 503 with Retry-After."""

import threading

import numpy as np
import pytest

from retrieval.core.admission import Busy, Lane, QuietTrimmer, release_memory
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def hold(lane: Lane, count: int):
    """``count`` threads holding (or waiting for) a slot until the returned event is set."""
    release, entered = threading.Event(), threading.Semaphore(0)
    outcomes = []

    def holder():
        try:
            with lane.admit():
                entered.release()
                release.wait(10)
            outcomes.append("ran")
        except Busy:
            outcomes.append("busy")
            entered.release()

    threads = [threading.Thread(target=holder) for _ in range(count)]
    for thread in threads:
        thread.start()
    return release, entered, threads, outcomes


def test_a_lane_admits_slots_queues_then_refuses():
    lane = Lane("test", slots=2, queue=1, wait_s=10)
    release, entered, threads, outcomes = hold(lane, 2)
    entered.acquire(timeout=5)
    entered.acquire(timeout=5)
    assert lane.active == 2
    waiter = threading.Thread(target=lambda: outcomes.append(_admit(lane)))
    waiter.start()
    while lane.waiting != 1:
        pass
    with pytest.raises(Busy, match="try again"), lane.admit():  # the queue is full
        pass
    release.set()
    for thread in [*threads, waiter]:
        thread.join(10)
    assert sorted(outcomes) == ["ran", "ran", "ran"] and lane.refused == 1 and lane.active == 0


def test_a_wait_that_times_out_is_refused():
    lane = Lane("test", slots=1, queue=5, wait_s=0.05)
    release, entered, threads, _ = hold(lane, 1)
    entered.acquire(timeout=5)
    with pytest.raises(Busy), lane.admit():
        pass
    release.set()
    threads[0].join(10)


def test_the_lane_calls_back_when_it_falls_idle():
    idle = []
    lane = Lane("test", slots=2, queue=0, wait_s=1, on_idle=lambda: idle.append(1))
    with lane.admit():
        with lane.admit():
            pass
        assert idle == []
    assert idle == [1]


def test_the_trimmer_trims_once_after_a_quiet_period_and_not_while_busy():
    trimmed, busy = threading.Event(), [True]
    trimmer = QuietTrimmer(quiet_s=0.05, busy=lambda: busy[0], trim=trimmed.set)
    for _ in range(5):
        trimmer.poke()  # a burst: one thread, no trim yet
    assert not trimmed.wait(0.3) and trimmer.trims == 0  # still busy: the heap is in use
    busy[0] = False
    assert trimmed.wait(5) and _eventually(lambda: trimmer.trims == 1)


def _eventually(check, timeout_s: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


def test_release_memory_runs():
    assert release_memory() in (True, False)  # False where the C library has no malloc_trim


def _admit(lane):
    with lane.admit():
        return "ran"


def test_a_full_heavy_lane_is_a_503_with_retry_after_while_small_queries_pass(client, gallery, query_png, admission_lanes):
    gate = admission_lanes(HEAVY_PIXELS=100_000, HEAVY_SLOTS=1, HEAVY_QUEUE=0, WAIT_S=0.1)
    large = png_bytes(np.full((400, 400), 80, np.uint8))  # 160,000 pixels: the heavy lane
    with gate.heavy.admit():  # another request is decoding a large image
        response = client.post("/api/search/", {"image": _upload(large)})
        assert response.status_code == 503 and response["Retry-After"] == "2"
        assert "busy" in response.json()["detail"]
        assert client.post("/api/search/", {"image": _upload(query_png), "k": 2}).status_code == 200
    assert client.post("/api/search/", {"image": _upload(large), "k": 2}).status_code == 200


@pytest.mark.parametrize("url", ["/api/sketch/search/", "/api/degraded/"])
def test_every_query_kind_decodes_through_the_gate(client, gallery, admission_lanes, url):
    gate = admission_lanes(HEAVY_PIXELS=100_000, HEAVY_SLOTS=1, HEAVY_QUEUE=0, WAIT_S=0.1)
    large = png_bytes(np.full((400, 400), 80, np.uint8))
    with gate.heavy.admit():
        response = client.post(url, {"image": _upload(large)})
    assert response.status_code == 503 and response.has_header("Retry-After")


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("query.png", data, content_type="image/png")
