"""Admission control: how many images this process decodes at once, and how many may wait.

Decoding is where a request's memory goes (a 36-megapixel PNG is 108 MB while it decodes),
so every decode (``engine.images.decode_image``) passes a gate: a bounded semaphore with a
bounded wait queue. Large images (by pixels or bytes) share a narrow lane, small ones a
wide one, so a flood of large uploads never delays a small search behind it. When a lane's
queue is full, or a wait times out, the request is refused with ``Busy`` (a ``NotReady``:
503, and ``portal.middleware`` adds ``Retry-After``), so memory stays bounded under a flood.

After a burst of large decodes the freed memory goes back to the system (``malloc_trim``),
rather than staying in the allocator's arenas for the life of the process. The trim waits
for a quiet second after the last large decode (``QuietTrimmer``): a request's body, its
decoded image and its buffers are freed after its decode, when the request ends, so trimming
as the decode lane falls idle would miss most of them.
"""

import ctypes
import ctypes.util
import gc
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from retrieval.engine.errors import NotReady
from retrieval.engine.images import set_decode_gate

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2


class Busy(NotReady):
    """Too many images are being decoded or waiting: try again shortly."""

    retry_after = RETRY_AFTER_S


class Lane:
    """At most ``slots`` holders at once and ``queue`` waiting; anyone beyond is refused."""

    def __init__(self, name: str, *, slots: int, queue: int, wait_s: float, on_idle=None):
        self.name, self.slots, self.queue, self.wait_s = name, slots, queue, wait_s
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.waiting = self.active = self.refused = 0
        self._on_idle = on_idle

    @contextmanager
    def admit(self):
        if not self._free.acquire(blocking=False):
            self._wait()
        with self._lock:
            self.active += 1
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1
                idle = self.active == 0 and self.waiting == 0
            self._free.release()
            if idle and self._on_idle is not None:
                self._on_idle()

    def _wait(self) -> None:
        with self._lock:
            if self.waiting >= self.queue:
                self.refused += 1
                raise Busy(self._busy_message())
            self.waiting += 1
        try:
            admitted = self._free.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self.waiting -= 1
        if not admitted:
            with self._lock:
                self.refused += 1
            raise Busy(self._busy_message())

    def _busy_message(self) -> str:
        return f"The server is busy with other images: try again in {RETRY_AFTER_S} seconds."


# --- the allocator: return memory after bursts ------------------------------------------

_libc = None
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8


def _glibc():
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim  # noqa: B018 - glibc only
        except (OSError, AttributeError):
            _libc = False
    return _libc or None


def release_memory() -> bool:
    """Collect reference cycles, then give freed heap memory back to the system (glibc's
    ``malloc_trim``; False elsewhere). The collection matters most: a query's form is a cycle
    (Django's bound-field cache points back at the form), so its cleaned data, the upload's
    bytes included, waits for a full collection, which a burst of large uploads does not
    trigger soon: measured, 50 uploads of 9.9 MB left 0.8 GB held until ``gc.collect()``."""
    gc.collect()
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))


def tune_allocator(*, mmap_threshold: int = 1 << 20, arena_max: int = 4) -> bool:
    """Server processes: big buffers (decoded images, request bodies) from mmap, returned on
    free, and few per-thread arenas (each request thread would otherwise keep its own)."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(libc.mallopt(M_ARENA_MAX, arena_max))


class QuietTrimmer:
    """``poke()`` after large allocations; once ``quiet_s`` pass with no poke and ``busy()`` is
    false, one thread trims the heap (``release_memory``). Cheap to poke: no thread per call."""

    def __init__(self, *, quiet_s: float = 1.0, busy=lambda: False, trim=None):
        self.quiet_s, self.busy, self.trim = quiet_s, busy, trim or release_memory
        self._poked = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.trims = 0

    def poke(self) -> None:
        self._poked.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="heap-trim", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while self._poked.wait(timeout=60):  # the thread ends after a quiet minute; the next poke starts one
            self._poked.clear()
            # Wait until a whole quiet period passes with no poke and nothing in flight.
            while self._poked.wait(timeout=self.quiet_s) or self.busy():
                self._poked.clear()
            self.trim()
            self.trims += 1


# --- the decode gate ---------------------------------------------------------------------

# The server lends each small request one of a few request slots (``portal.threads``), so that
# requests are served in turn rather than all at once. A request that turns out to carry a
# heavy image (few bytes can hold 36 megapixels) gives its slot back before it enters the heavy
# lane: heavy images never hold up the small searches queued behind them.
request_slot: ContextVar[Callable[[], None] | None] = ContextVar("request_slot", default=None)


def give_back_request_slot() -> None:
    release = request_slot.get()
    if release is not None:
        release()


class DecodeGate:
    """``gate(pixels, byte_size)``: the lane an image of that size decodes in."""

    def __init__(self, *, heavy_pixels: int, heavy_bytes: int, heavy: Lane, light: Lane):
        self.heavy_pixels, self.heavy_bytes, self.heavy, self.light = heavy_pixels, heavy_bytes, heavy, light

    def __call__(self, pixels: int, byte_size: int):
        heavy = pixels > self.heavy_pixels or byte_size > self.heavy_bytes
        if heavy:
            give_back_request_slot()
        return (self.heavy if heavy else self.light).admit()


_gate: DecodeGate | None = None
_trimmer = QuietTrimmer(busy=lambda: _gate is not None and (_gate.heavy.active or _gate.heavy.waiting))


def install() -> DecodeGate:
    """Build the lanes from ``settings.RETRIEVAL["ADMISSION"]`` and gate every decode with them."""
    global _gate
    config = settings.RETRIEVAL["ADMISSION"]
    _gate = DecodeGate(
        heavy_pixels=config["HEAVY_PIXELS"], heavy_bytes=config["HEAVY_BYTES"],
        heavy=Lane("heavy", slots=config["HEAVY_SLOTS"], queue=config["HEAVY_QUEUE"], wait_s=config["WAIT_S"],
                   on_idle=_trimmer.poke),
        light=Lane("light", slots=config["SLOTS"], queue=config["QUEUE"], wait_s=config["WAIT_S"]),
    )
    set_decode_gate(_gate)
    return _gate


def gate() -> DecodeGate | None:
    return _gate
