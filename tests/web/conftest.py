"""Helpers for the training-centre tests: tiny configurations, waiting on the worker, and
restoring what transactional tests and activations change."""

import time

import pytest
import torch
from django.conf import settings

from tests.conftest import DATASET_MISSING, TINY_GALLERY

# Seconds-long runs: ~40 ms a step on one core of this machine.
QUICK = {"epochs": 1, "batch_size": 64, "subset": 200, "eval_queries": 100, "augment": False, "device": "cpu"}
# Long enough to watch (and to cancel) mid-run; cancelled tests never run it to the end.
SLOW = {**QUICK, "epochs": 3, "batch_size": 16, "subset": 2000}
needs_dataset = pytest.mark.skipif(DATASET_MISSING,
                                   reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")


@pytest.fixture
def degraded_gallery(gallery):
    """The tiny gallery with tiny enhancers and a robust descriptor with its index."""
    from tests.support.degraded import degraded_ready

    return degraded_ready(gallery)


@pytest.fixture
def one_torch_thread():
    """The worker trains in this process: with two threads on two busy cores a step takes
    ~1 s instead of ~40 ms (the cores are shared with other jobs)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def wait_for(run_id: int, done, timeout: float = 60.0, every: float = 0.05):
    """Poll the run's row until ``done(run)``; returns the run (AssertionError on timeout)."""
    from retrieval.models import TrainingRun

    deadline = time.monotonic() + timeout
    while True:
        run = TrainingRun.objects.get(pk=run_id)
        if done(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run #{run_id} still {run.status} (step {run.progress.get('step')}) after {timeout} s")
        time.sleep(every)


def ended(run) -> bool:
    return run.ended


@pytest.fixture
def live_gallery(transactional_db):
    """The tiny gallery for transactional tests: an earlier one flushed the tables, so import
    (files are already there) and index it again when needed."""
    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    from retrieval.galleries.services import gallery_import_fashion_mnist, index_rebuild
    from retrieval.models import Gallery

    gallery = Gallery.objects.filter(slug="fashion-mnist").first()
    if gallery is None or gallery.images.count() != 2 * TINY_GALLERY:
        gallery = gallery_import_fashion_mnist(folder=settings.RETRIEVAL["FASHION_MNIST_DIR"], limit=TINY_GALLERY)
    index_rebuild(gallery=gallery)
    return gallery


@pytest.fixture
def restore_serving():
    """Activations write the gallery's active pointer: remove it and reload the default after."""
    from retrieval.core.runtime import forget_pairs, pointer_path

    yield
    pointer_path(settings.RETRIEVAL["DEFAULT_GALLERY"]).unlink(missing_ok=True)
    forget_pairs()


@pytest.fixture
def idle_worker(monkeypatch):
    """Queue runs without starting the in-process worker (page and API tests in a transaction)."""
    from retrieval.training import worker as tasks

    monkeypatch.setattr(tasks, "enqueue", lambda: None)
