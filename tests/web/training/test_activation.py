"""Activating a finished run: the worker indexes the gallery with its checkpoint (streaming
progress), then searches switch to the new pair without a restart and never see a mix;
other processes notice the active pointer by file identity."""

import threading
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from retrieval.core import runtime
from retrieval.engine.fileio import atomic_write_json, file_digest
from retrieval.engine.training.registry import get_trainer
from retrieval.galleries import services as gallery_services
from retrieval.models import TrainingRun
from retrieval.search import services
from retrieval.training import services as training_services
from tests.web.conftest import QUICK, needs_dataset, wait_for

pytestmark = [needs_dataset, pytest.mark.usefixtures("one_torch_thread", "restore_serving")]
SLUG = "fashion-mnist"


@pytest.fixture(scope="module")
def second_checkpoint(tmp_path_factory, django_db_setup) -> Path:
    """Another tiny descriptor (another seed), trained once for the module."""
    import torch

    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("run") / "run-seed7.pt"
    training_services.descriptor_train(config=get_trainer("descriptor").build_config({**QUICK, "seed": 7}), out_path=path)
    return path


@pytest.fixture
def finished_run(second_checkpoint, db) -> TrainingRun:
    return TrainingRun.objects.create(family="descriptor", config=QUICK, status="finished", checkpoint=str(second_checkpoint),
                                      checkpoint_id=file_digest(second_checkpoint))


def activate(run: TrainingRun) -> TrainingRun:
    """Queue the activation, then run the job here (the worker's own function, in this thread)."""
    run = training_services.training_run_activate(run=run)
    return training_services.training_run_activation_execute(run_id=run.pk)


@pytest.mark.django_db(transaction=True)
def test_the_worker_activates_and_searches_switch_without_a_restart(finished_run, live_gallery, query_png_bytes):
    before = services.image_search(gallery=live_gallery, data=query_png_bytes, k=5, metric="l2")
    run = training_services.training_run_activate(run=finished_run)
    # Queued, not run inline; the in-process worker, woken by the queueing, may already have claimed it.
    assert run.activation in ("queued", "running")
    run = wait_for(run.pk, lambda r: r.activation in ("done", "failed"))  # the in-process worker's job
    assert run.activation == "done", run.activation_error
    after = services.image_search(gallery=live_gallery, data=query_png_bytes, k=5, metric="l2")
    assert before.query.checkpoint_id != after.query.checkpoint_id == run.checkpoint_id


def test_activation_indexes_with_the_new_checkpoint_and_switches_searches(finished_run, gallery, query_png_bytes,
                                                                             monkeypatch, idle_worker):
    live_gallery = gallery
    events = []
    monkeypatch.setattr(training_services, "send_run_event", lambda run_id, event: events.append(event))
    before = services.image_search(gallery=live_gallery, data=query_png_bytes, k=5, metric="l2")
    assert before.query.checkpoint_id != finished_run.checkpoint_id
    run = activate(finished_run)
    assert run.activation == "done" and run.activated is not None and run.activation_error == ""
    assert run.activation_progress == {"done": 300, "total": 300}
    reindex = [e for e in events if e["kind"] == "reindex"]
    assert reindex and reindex[-1] == {"run": run.pk, "kind": "reindex", "done": 300, "total": 300}
    assert [e["state"] for e in events if e["kind"] == "activation"] == ["queued", "running", "done"]
    pointer = runtime.active_pointer(SLUG)
    assert pointer["run"] == run.pk and pointer["checkpoint_id"] == run.checkpoint_id
    assert Path(pointer["index"]).name == f"{SLUG}-{run.checkpoint_id}.npz"
    after = services.image_search(gallery=live_gallery, data=query_png_bytes, k=5, metric="l2")
    assert after.query.checkpoint_id == run.checkpoint_id  # this process switched without a restart
    from retrieval.training.selectors import active_run_id

    assert active_run_id() == run.pk
    training_services.serving_checkpoint_reset()
    assert runtime.active_pointer(SLUG) is None
    assert services.image_search(gallery=live_gallery, data=query_png_bytes, k=5, metric="l2").query.checkpoint_id == \
        before.query.checkpoint_id
    assert TrainingRun.objects.get(pk=run.pk).activation == ""


def test_only_finished_descriptor_runs_can_be_activated(db):
    queued = TrainingRun.objects.create(family="descriptor")
    with pytest.raises(training_services.RunConflict, match="Only a finished run"):
        training_services.training_run_activate(run=queued)
    gone = TrainingRun.objects.create(family="descriptor", status="finished", checkpoint="/nowhere/x.pt")
    with pytest.raises(training_services.RunConflict, match="is gone"):
        training_services.training_run_activate(run=gone)


def test_a_replaced_checkpoint_fails_activation_and_keeps_the_old_pair(finished_run, gallery, query_png_bytes, idle_worker):
    live_gallery = gallery
    serving = services.image_search(gallery=live_gallery, data=query_png_bytes, k=3, metric="l2").query.checkpoint_id
    TrainingRun.objects.filter(pk=finished_run.pk).update(checkpoint_id="0" * 16)
    run = activate(TrainingRun.objects.get(pk=finished_run.pk))
    assert run.activation == "failed" and "replaced" in run.activation_error
    assert runtime.active_pointer(SLUG) is None
    assert services.image_search(gallery=live_gallery, data=query_png_bytes, k=3, metric="l2").query.checkpoint_id == serving


def test_hot_swap_under_concurrent_searches_never_fails_or_mixes_pairs(finished_run, gallery, query_png_bytes,
                                                                       idle_worker):
    """Threads search while the checkpoint is activated and reset again and again: every
    answer is exactly the answer of one whole pair, and no search fails."""
    live_gallery = gallery
    default_pair = runtime.serving_pair(SLUG)
    run = activate(finished_run)
    new_pair = runtime.serving_pair(SLUG)
    assert {default_pair.checkpoint_id, new_pair.checkpoint_id} == {default_pair.checkpoint_id, run.checkpoint_id}
    expected = {}
    for pair in (default_pair, new_pair):  # each pair's own answer, straight from its parts
        vector = pair.descriptor.describe_images([_decode(query_png_bytes)])
        hits = pair.index.search(vector, 5, "l2")
        expected[pair.checkpoint_id] = (hits.ids[0].tolist(), np.round(hits.distances[0], 4).tolist())
    gallery_ids = set(live_gallery.images.filter(split="train").values_list("pk", flat=True))
    errors, answers, stop = [], [], threading.Event()

    def search():
        while not stop.is_set():
            try:
                outcome = services.image_search(gallery=live_gallery, data=query_png_bytes, k=5, metric="l2")
                hits = outcome.query.hits
                answers.append((outcome.query.checkpoint_id, hits.ids.tolist(), np.round(hits.distances, 4).tolist()))
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                errors.append(error)
        from django.db import connection

        connection.close()

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(4):  # swap back and forth through the real services
        training_services.serving_checkpoint_reset()
        runtime.activate_checkpoint(SLUG, checkpoint=Path(run.checkpoint),
                                    index=runtime.index_path(SLUG, run.checkpoint_id), run_id=run.pk)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    assert {answer[0] for answer in answers} == set(expected)  # both pairs really served
    for checkpoint_id, ids, distances in answers:
        assert checkpoint_id in expected
        assert (ids, distances) == expected[checkpoint_id]
        assert set(ids) <= gallery_ids


def _decode(data: bytes):
    from retrieval.engine.images import decode_image

    return decode_image(data).image


def test_another_process_activating_is_noticed_by_file_identity(finished_run, gallery, query_png_bytes):
    live_gallery = gallery
    old = runtime.serving_pair(SLUG)
    version = gallery_services.index_rebuild(gallery=live_gallery, checkpoint=Path(finished_run.checkpoint))
    # What another process's activation leaves behind: a new pointer on disk, nothing in memory here.
    atomic_write_json(runtime.pointer_path(SLUG), {"checkpoint": finished_run.checkpoint, "index": version.path,
                                                   "checkpoint_id": finished_run.checkpoint_id, "run": finished_run.pk})
    runtime._load_lock.acquire()  # while another thread loads the new pair ...
    try:
        assert runtime.serving_pair(SLUG) is old  # ... searches keep the old one instead of waiting
    finally:
        runtime._load_lock.release()
    assert runtime.serving_pair(SLUG).checkpoint_id == finished_run.checkpoint_id
    outcome = services.image_search(gallery=live_gallery, data=query_png_bytes, k=3, metric="cosine")
    assert outcome.query.checkpoint_id == finished_run.checkpoint_id
    runtime.pointer_path(SLUG).unlink()  # and back: the pointer's removal is a change too
    assert runtime.serving_pair(SLUG).checkpoint_id == old.checkpoint_id


def test_a_broken_pointer_keeps_the_working_pair(gallery):
    old = runtime.serving_pair(SLUG)
    atomic_write_json(runtime.pointer_path(SLUG), {"checkpoint": str(runtime.default_checkpoint_path()),
                                                   "index": "/nowhere/index.npz"})
    assert runtime.serving_pair(SLUG) is old  # logged, not raised: searches go on
    assert settings.RETRIEVAL["DEFAULT_GALLERY"] == SLUG


@pytest.fixture
def query_png_bytes() -> bytes:
    from retrieval.models import GalleryImage

    image = GalleryImage.objects.filter(gallery__slug=SLUG, split="test").order_by("source_index").first()
    with image.file.open("rb") as f:
        return f.read()
