"""Writes of the training centre: queue, run, cancel and activate training runs.

These are the only functions that change a run's status, and the only ones (with the
reporter they hand to trainers) that push run events to its websocket group. The browser,
the API, ``manage.py train`` and the workers all go through them.
"""

import dataclasses
import logging
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from retrieval.core.runtime import activate_checkpoint, reset_to_default, serving_checkpoint_path
from retrieval.engine.config import DescriptorTrainConfig
from retrieval.engine.errors import InvalidConfig, NotReady
from retrieval.engine.fileio import file_digest
from retrieval.engine.training.callbacks import CallbackList, Cancelled, TrainingCallback, TrainResult
from retrieval.engine.training.registry import TRAINERS, TrainContext, TrainerSpec, get_trainer
from retrieval.galleries.services import index_rebuild
from retrieval.models import Gallery, TrainingRun
from retrieval.training import worker as tasks
from retrieval.training.events import send_run_event
from retrieval.training.progress import SAVE_EVERY_S, SEND_EVERY_S, ChannelsProgress, request_stop_here

log = logging.getLogger(__name__)
Status, Activation = TrainingRun.Status, TrainingRun.Activation


class RunConflict(Exception):
    """The run's state does not allow the action (cancelling a finished run, activating a
    failed one ...); ``str(error)`` is a sentence fit to show."""


def trainer_for(family: str) -> TrainerSpec:
    if family not in TRAINERS:
        raise InvalidConfig([f"unknown model family {family!r} (choose from {', '.join(TRAINERS.names())})"],
                            {"family": ["unknown model family"]})
    return get_trainer(family)


def runs_dir() -> Path:
    return Path(settings.RETRIEVAL["RUNS_DIR"])


# --- starting --------------------------------------------------------------------------

def training_run_create(*, family: str, values: dict, requested_by=None, public: bool = True, origin: str = "web",
                        out_path: Path | None = None, run_here: bool = False) -> TrainingRun:
    """Validate the configuration (``InvalidConfig`` before anything starts) and record the
    run: queued, or already running in this process when ``run_here`` (the command line)."""
    spec = trainer_for(family)
    config = spec.build_config(values)
    now = timezone.now()
    run = TrainingRun.objects.create(
        family=family, config=dataclasses.asdict(config), public=public, origin=origin,
        requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        status=Status.RUNNING if run_here else Status.QUEUED,
        **({"started": now, "heartbeat": now, "worker": tasks.worker_id()} if run_here else {}),
    )
    run.checkpoint = str(out_path or runs_dir() / f"run-{run.pk:04d}-{family}.pt")
    TrainingRun.objects.filter(pk=run.pk).update(checkpoint=run.checkpoint)
    return run


def training_run_start(*, family: str, values: dict, requested_by=None, public: bool = True,
                       origin: str = "web") -> TrainingRun:
    """Queue a run and wake the worker; it starts as soon as the runs before it are done."""
    run = training_run_create(family=family, values=values, requested_by=requested_by, public=public, origin=origin)
    tasks.enqueue()
    return run


def training_run_execute(*, run_id: int, extra_callback: TrainingCallback | None = None) -> TrainingRun:
    """Train a claimed run to its end, whatever the end: finished, cancelled, or failed with
    the error's message. Only a keyboard interrupt propagates (marked interrupted first)."""
    run = TrainingRun.objects.get(pk=run_id)
    reporter = ChannelsProgress(run.pk)
    send_run_event(run.pk, {"run": run.pk, "kind": "status", "status": Status.RUNNING})
    try:
        spec = get_trainer(run.family)
        result = spec.run(spec.build_config(run.config), train_context(spec, run.checkpoint),
                          CallbackList(reporter, extra_callback))
    except Cancelled:
        reporter.close(Status.CANCELLED, error="Cancelled while training.")
    except KeyboardInterrupt:
        reporter.close(Status.INTERRUPTED, error="Stopped by an interrupt (Ctrl-C or SIGTERM).")
        raise
    except Exception as error:  # noqa: BLE001 - any failure of a trainer is recorded on its run
        log.exception("training run %s failed", run.pk)
        reporter.close(Status.FAILED, error=describe_error(error))
    else:
        reporter.close(Status.FINISHED, result=result)
    run.refresh_from_db()
    return run


def describe_error(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- stopping --------------------------------------------------------------------------

def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """A queued run is cancelled at once; a running one stops cleanly at its next step."""
    now = timezone.now()
    if TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED, finished=now, error="Cancelled before it started."):
        send_run_event(run.pk, {"run": run.pk, "kind": "status", "status": Status.CANCELLED,
                                "error": "Cancelled before it started."})
    elif TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True):
        request_stop_here(run.pk)
        send_run_event(run.pk, {"run": run.pk, "kind": "cancelling"})
    else:
        run.refresh_from_db()
        raise RunConflict(f"Run #{run.pk} has already ended ({run.get_status_display().lower()}).")
    run.refresh_from_db()
    return run


def training_runs_mark_interrupted() -> int:
    """Runs (and activations) left running by a process that no longer exists are marked
    interrupted, so none shows as running forever. Called at server and worker start-up."""
    count = 0
    for run in TrainingRun.objects.filter(status=Status.RUNNING):
        message = "Interrupted: the process training it stopped (a server restart?). Start it again."
        # A run killed before its checkpoint was written names no checkpoint.
        checkpoint = run.checkpoint if run.checkpoint and Path(run.checkpoint).is_file() else ""
        if not tasks.worker_alive(run) and TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
                status=Status.INTERRUPTED, finished=timezone.now(), error=message, checkpoint=checkpoint):
            send_run_event(run.pk, {"run": run.pk, "kind": "status", "status": Status.INTERRUPTED, "error": message})
            count += 1
    for run in TrainingRun.objects.filter(activation=Activation.RUNNING):
        if not tasks.worker_alive(run):
            TrainingRun.objects.filter(pk=run.pk, activation=Activation.RUNNING).update(
                activation=Activation.FAILED, activation_error="Interrupted by a restart: activate it again.")
    if count:
        log.warning("marked %d training run(s) interrupted", count)
    return count


# --- activating ------------------------------------------------------------------------

def training_run_activate(*, run: TrainingRun) -> TrainingRun:
    """Queue the activation of a finished run's checkpoint: the worker indexes the gallery
    with it, then every process serves the new pair (see ``runtime.activate_checkpoint``)."""
    if trainer_for(run.family).produces != "descriptor":
        raise RunConflict(f"A {run.family} model does not serve searches, so it cannot be activated.")
    if run.status != Status.FINISHED:
        raise RunConflict(f"Only a finished run can be activated; run #{run.pk} is {run.get_status_display().lower()}.")
    if not Path(run.checkpoint).is_file():
        raise RunConflict(f"The checkpoint of run #{run.pk} is gone ({Path(run.checkpoint).name}).")
    if not TrainingRun.objects.filter(pk=run.pk).exclude(activation__in=[Activation.QUEUED, Activation.RUNNING]).update(
            activation=Activation.QUEUED, activation_requested=timezone.now(), activation_error="", activation_progress={}):
        raise RunConflict(f"Run #{run.pk} is already being activated.")
    send_run_event(run.pk, {"run": run.pk, "kind": "activation", "state": Activation.QUEUED})
    tasks.enqueue()
    run.refresh_from_db()
    return run


def training_run_activation_execute(*, run_id: int) -> TrainingRun:
    """The claimed activation job: re-index the gallery with the run's checkpoint (streaming
    "reindex" progress to the run's watchers), then serve that pair."""
    run = TrainingRun.objects.get(pk=run_id)
    send_run_event(run.pk, {"run": run.pk, "kind": "activation", "state": Activation.RUNNING})
    try:
        gallery = Gallery.default()
        if gallery is None:
            raise NotReady("No gallery is set up yet: run the set-up command first.")
        if run.checkpoint_id and file_digest(run.checkpoint) != run.checkpoint_id:
            raise RunConflict("The checkpoint file has been replaced since this run wrote it.")
        version = index_rebuild(gallery=gallery, checkpoint=Path(run.checkpoint), progress=ReindexProgress(run.pk))
        activate_checkpoint(gallery.slug, checkpoint=Path(run.checkpoint), index=version.resolved_path, run_id=run.pk)
    except Exception as error:  # noqa: BLE001 - the run page shows why; the old pair keeps serving
        log.exception("activating run %s failed", run.pk)
        message = describe_error(error)
        TrainingRun.objects.filter(pk=run.pk).update(activation=Activation.FAILED, activation_error=message)
        send_run_event(run.pk, {"run": run.pk, "kind": "activation", "state": Activation.FAILED, "error": message})
    else:
        TrainingRun.objects.filter(activation=Activation.DONE).exclude(pk=run.pk).update(activation=Activation.NONE)
        TrainingRun.objects.filter(pk=run.pk).update(activation=Activation.DONE, activated=timezone.now())
        send_run_event(run.pk, {"run": run.pk, "kind": "activation", "state": Activation.DONE})
    run.refresh_from_db()
    return run


class ReindexProgress:
    """The (done, total) callback of ``index_rebuild``, streamed to the run's watchers."""

    def __init__(self, run_id: int):
        self.run_id, self._sent, self._saved = run_id, 0.0, 0.0

    def __call__(self, done: int, total: int) -> None:
        import time

        now, last = time.monotonic(), done >= total
        if last or now - self._sent >= SEND_EVERY_S:
            self._sent = now
            send_run_event(self.run_id, {"run": self.run_id, "kind": "reindex", "done": done, "total": total})
        if last or now - self._saved >= SAVE_EVERY_S:
            self._saved = now
            TrainingRun.objects.filter(pk=self.run_id).update(activation_progress={"done": done, "total": total})


def serving_checkpoint_reset(*, gallery_slug: str | None = None) -> None:
    """Serve the committed default checkpoint again (undoes every activation)."""
    reset_to_default(gallery_slug or settings.RETRIEVAL["DEFAULT_GALLERY"])
    TrainingRun.objects.filter(activation=Activation.DONE).update(activation=Activation.NONE)


def dataset_dir(name: str) -> Path:
    """The folder of a trainer's dataset (``TrainerSpec.dataset``)."""
    folders = {"fashion-mnist": settings.RETRIEVAL["FASHION_MNIST_DIR"], **settings.RETRIEVAL.get("DATASETS", {})}
    try:
        return Path(folders[name])
    except KeyError:
        raise NotReady(f"No folder is configured for the dataset {name!r} (RETRIEVAL['DATASETS']).") from None


def descriptor_train(*, config: DescriptorTrainConfig, out_path: Path, callback: TrainingCallback | None = None) -> TrainResult:
    """Train the descriptor CNN on the Fashion-MNIST gallery, validating on its test split
    (no run record: the session fixtures and scripts use this directly)."""
    spec = get_trainer("descriptor")
    return spec.run(config, train_context(spec, out_path), callback or TrainingCallback())


def train_context(spec, out_path: Path | str) -> TrainContext:
    """Where a trainer family finds its data and the serving descriptor, and writes its checkpoint."""
    return TrainContext(data_dir=dataset_dir(spec.dataset), out_path=Path(out_path),
                        descriptor_path=serving_checkpoint_path(settings.RETRIEVAL["DEFAULT_GALLERY"]))
