"""The worker that runs training and activation jobs off the request path.

The queue is the ``TrainingRun`` table: a queued run is a training job, a run whose
activation is queued is an activation job (index the gallery with its checkpoint, then serve
it). Claiming a job is one conditional UPDATE, so any number of workers, threads or
processes, may poll the same table and each job runs exactly once, one at a time per worker.

``RETRIEVAL["TRAINING_WORKER"]``:
- ``"inprocess"`` (the embedded default): one daemon thread in the server process, started
  by the first job queued and woken by every later one.
- ``"external"``: ``python manage.py training_worker`` runs jobs in its own process
  (``work_forever``); the server only queues them. Progress then reaches the browsers
  through the Redis channel layer (``REDIS_URL``).
"""

import logging
import os
import socket
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from retrieval.models import TrainingRun

log = logging.getLogger(__name__)
Status, Activation = TrainingRun.Status, TrainingRun.Activation
_wake = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_running_here: set[int] = set()  # runs whose job this process is executing now


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(run: TrainingRun) -> bool:
    """Whether the process named by ``run.worker`` can still be working on it: on this host,
    its pid must exist (and, if it is this process, be running the job now); on another host,
    its heartbeat must be recent."""
    host, _, pid = run.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return run.pk in _running_here
        return _pid_exists(int(pid))
    if not run.worker or run.heartbeat is None:
        return False
    return (timezone.now() - run.heartbeat).total_seconds() < settings.RETRIEVAL["RUN_STALE_AFTER_S"]


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


# --- claiming and running jobs -----------------------------------------------------------

def run_next_job() -> bool:
    """Claim and run one job, an activation before any training; False when none is waiting."""
    from retrieval.training import services

    run_id = _claim_activation()
    if run_id is not None:
        _tracked(run_id, lambda: services.training_run_activation_execute(run_id=run_id))
        return True
    run_id = _claim_training()
    if run_id is not None:
        _announce_queue()
        _tracked(run_id, lambda: services.training_run_execute(run_id=run_id))
        return True
    return False


def execute_training(run_id: int, *, extra_callback=None) -> TrainingRun:
    """Run an already-claimed run in this thread (the command line's foreground runs)."""
    from retrieval.training import services

    return _tracked(run_id, lambda: services.training_run_execute(run_id=run_id, extra_callback=extra_callback))


def _tracked(run_id: int, job: Callable):
    _running_here.add(run_id)
    try:
        return job()
    finally:
        _running_here.discard(run_id)


def _claim_training() -> int | None:
    queued = TrainingRun.objects.filter(status=Status.QUEUED).order_by("created", "id")
    for pk in queued.values_list("pk", flat=True)[:20]:
        now = timezone.now()
        if TrainingRun.objects.filter(pk=pk, status=Status.QUEUED).update(
                status=Status.RUNNING, started=now, heartbeat=now, worker=worker_id()):
            return pk
    return None


def _claim_activation() -> int | None:
    queued = TrainingRun.objects.filter(activation=Activation.QUEUED).order_by("activation_requested", "id")
    for pk in queued.values_list("pk", flat=True)[:20]:
        if TrainingRun.objects.filter(pk=pk, activation=Activation.QUEUED).update(
                activation=Activation.RUNNING, heartbeat=timezone.now(), worker=worker_id()):
            return pk
    return None


def _announce_queue() -> None:
    """Tell the watchers of every queued run where it now stands (one run just left the queue)."""
    from retrieval.training.events import send_run_event
    from retrieval.training.selectors import queue_positions

    for run_id, position in queue_positions().items():
        send_run_event(run_id, {"run": run_id, "kind": "queue", "position": position})


# --- the in-process worker -----------------------------------------------------------------

def enqueue() -> None:
    """A job was queued: wake this process's worker (started on first use) unless an external
    worker process runs the jobs."""
    if settings.RETRIEVAL["TRAINING_WORKER"] != "inprocess":
        return
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_inprocess_loop, name="training-worker", daemon=True)
            _thread.start()
    _wake.set()


def _inprocess_loop() -> None:
    from retrieval.training import services

    try:  # a worker's start is a start-up too (e.g. after runserver's reloader killed the last one)
        services.training_runs_mark_interrupted()
    except DatabaseError as error:
        log.warning("training runs not checked when the worker started: %s", error)
    while True:
        _wake.wait()
        _wake.clear()
        try:
            while run_next_job():
                pass
        except Exception:  # noqa: BLE001 - the worker outlives a broken job; the job's row says what failed
            log.exception("training worker: job failed outside its own error handling")
        finally:
            connection.close()  # this thread's connection; SQLite must not hold it while idle


def server_started() -> None:
    """Start-up of a server process (portal.asgi): runs left "running" by a dead process are
    marked interrupted, and jobs still queued are picked up by the in-process worker."""
    if not settings.RETRIEVAL["RECOVER_RUNS_AT_STARTUP"]:
        return
    from retrieval.training import services

    try:
        services.training_runs_mark_interrupted()
        waiting = TrainingRun.objects.filter(status=Status.QUEUED).exists() or \
            TrainingRun.objects.filter(activation=Activation.QUEUED).exists()
    except DatabaseError as error:  # not migrated yet: nothing to recover
        log.warning("training runs not checked at start-up: %s", error)
        return
    finally:
        connection.close()
    if waiting:
        enqueue()


# --- the external worker -------------------------------------------------------------------

def work_forever(*, poll_s: float = 1.0, stop: threading.Event | None = None, once: bool = False) -> int:
    """The external worker's loop: recover, then run jobs as they come until ``stop`` is set
    (or, with ``once``, until none is waiting). Returns how many jobs it ran."""
    from retrieval.training import services

    stop = stop or threading.Event()
    services.training_runs_mark_interrupted()
    done = 0
    while not stop.is_set():
        if run_next_job():
            done += 1
            continue
        if once:
            break
        connection.close()
        stop.wait(poll_s)
    return done
