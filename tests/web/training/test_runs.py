"""Training runs through the services and the in-process worker: start, progress, queueing,
cancel, failure, restart recovery, the external worker loop and the command line.

The worker trains in its own thread with its own database connection, so these tests are
transactional (the rows must be committed for it to see them)."""

import os
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from retrieval.engine.errors import InvalidConfig
from retrieval.engine.fileio import file_digest
from retrieval.models import TrainingRun
from retrieval.training import services as training_services
from retrieval.training import worker as tasks
from tests.web.conftest import QUICK, SLOW, ended, needs_dataset, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("one_torch_thread")]
Status = TrainingRun.Status


def start(values=QUICK, **kwargs) -> TrainingRun:
    return training_services.training_run_start(family="descriptor", values=values, **kwargs)


@needs_dataset
def test_a_run_trains_in_the_worker_and_records_everything():
    run = start()
    assert run.status == Status.QUEUED and run.checkpoint.endswith(f"run-{run.pk:04d}-descriptor.pt")
    run = wait_for(run.pk, ended)
    assert run.status == Status.FINISHED, run.error
    assert run.config["epochs"] == 1 and run.config["subset"] == 200 and run.config["arch"] == "fmnist_cnn"
    assert [row["epoch"] for row in run.history] == [1]
    assert set(run.final_metrics) >= {"accuracy", "P@5", "train_loss"}
    total = run.progress["total_steps"]
    assert total == 4 and run.progress["step"] == total and run.progress["eta_s"] == 0
    assert [p["step"] for p in run.curve] == list(range(1, total + 1))
    assert all("cross_entropy" in p["losses"] for p in run.curve)
    assert run.device == "cpu" and run.train_seconds > 0 and run.started <= run.finished
    assert Path(run.checkpoint).is_file() and run.checkpoint_id == file_digest(run.checkpoint)
    assert Path(run.checkpoint).with_suffix(".json").is_file()
    assert run.worker == tasks.worker_id() and run.error == ""


@needs_dataset
def test_a_second_run_waits_in_the_queue_and_cancel_stops_at_the_next_step():
    first, second = start(SLOW), start(QUICK)
    first = wait_for(first.pk, lambda r: r.status == Status.RUNNING and r.progress.get("step", 0) >= 1)
    assert TrainingRun.objects.get(pk=second.pk).status == Status.QUEUED  # one run at a time
    from retrieval.training.selectors import queue_positions

    assert queue_positions() == {second.pk: 1}
    training_services.training_run_cancel(run=first)
    first = wait_for(first.pk, ended, timeout=20)
    assert first.status == Status.CANCELLED and "Cancelled" in first.error
    assert first.progress["step"] < first.progress["total_steps"] and first.curve  # progress was kept
    assert not Path(first.checkpoint).exists()  # nothing half-written
    second = wait_for(second.pk, ended)
    assert second.status == Status.FINISHED and second.started >= first.finished
    with pytest.raises(training_services.RunConflict, match="already ended"):
        training_services.training_run_cancel(run=second)


def test_a_queued_run_is_cancelled_at_once(idle_worker):
    run = start()
    run = training_services.training_run_cancel(run=run)
    assert run.status == Status.CANCELLED and run.finished is not None
    assert not tasks.run_next_job()  # nothing left for a worker


@needs_dataset
def test_progress_is_saved_while_the_run_trains():
    run = start(SLOW)
    run = wait_for(run.pk, lambda r: len(r.curve) >= 2 and r.status == Status.RUNNING)
    assert run.progress["step"] >= 2 and run.progress["images_per_s"] > 0 and run.heartbeat is not None
    training_services.training_run_cancel(run=run)
    wait_for(run.pk, ended, timeout=20)


def test_a_failing_trainer_marks_the_run_failed_with_its_message(settings, tmp_path):
    settings.RETRIEVAL = {**settings.RETRIEVAL, "FASHION_MNIST_DIR": tmp_path / "nowhere"}
    run = wait_for(start().pk, ended)
    assert run.status == Status.FAILED
    assert run.error.startswith("FileNotFoundError:") and "not found in" in run.error and "nowhere" in run.error
    assert run.finished is not None and not Path(run.checkpoint).exists()


@pytest.mark.parametrize("values", [
    {"epochs": "-1"}, {"batch_size": 0}, {"device": "tpu"}, {"epochs": "many"}, {"lr": "-"}, {"colour": "red"},
])
def test_invalid_configuration_is_refused_before_anything_starts(values, idle_worker):
    with pytest.raises(InvalidConfig):
        start({**QUICK, **values})
    assert not TrainingRun.objects.exists()


def test_a_gpu_asked_for_where_there_is_none_is_refused(idle_worker):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(InvalidConfig, match="GPU"):
        start({**QUICK, "device": "cuda"})


def test_unknown_family_is_refused(idle_worker):
    with pytest.raises(InvalidConfig, match="unknown model family 'gan'"):
        training_services.training_run_start(family="gan", values={})


def dead_pid() -> int:
    pid = 2 ** 22 - 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_restart_marks_runs_of_dead_processes_interrupted(settings):
    here, now = socket.gethostname(), timezone.now()
    old = now - timezone.timedelta(seconds=settings.RETRIEVAL["RUN_STALE_AFTER_S"] + 5)
    make = lambda **kw: TrainingRun.objects.create(family="descriptor", status=Status.RUNNING, **kw)  # noqa: E731
    dead_here = make(worker=f"{here}:{dead_pid()}", heartbeat=now)
    this_process_idle = make(worker=tasks.worker_id(), heartbeat=now)  # a previous life of this pid: not running here
    alive_here = make(worker=f"{here}:{os.getppid()}", heartbeat=old)
    elsewhere_recent = make(worker="other-host:42", heartbeat=now)
    elsewhere_silent = make(worker="other-host:43", heartbeat=old)
    queued = TrainingRun.objects.create(family="descriptor")
    activating = TrainingRun.objects.create(family="descriptor", status=Status.FINISHED, activation="running",
                                            worker=f"{here}:{dead_pid()}")
    settings.RETRIEVAL = {**settings.RETRIEVAL, "RECOVER_RUNS_AT_STARTUP": True, "TRAINING_WORKER": "external"}
    tasks.server_started()
    status = {r.pk: r.status for r in TrainingRun.objects.all()}
    assert status[dead_here.pk] == status[this_process_idle.pk] == status[elsewhere_silent.pk] == Status.INTERRUPTED
    assert status[alive_here.pk] == status[elsewhere_recent.pk] == Status.RUNNING
    assert status[queued.pk] == Status.QUEUED
    interrupted = TrainingRun.objects.get(pk=dead_here.pk)
    assert "Interrupted" in interrupted.error and interrupted.finished is not None
    assert TrainingRun.objects.get(pk=activating.pk).activation == "failed"
    assert training_services.training_runs_mark_interrupted() == 0  # nothing left to mark


def test_recovery_is_off_outside_the_server_process():
    run = TrainingRun.objects.create(family="descriptor", status=Status.RUNNING, worker="other-host:1")
    tasks.server_started()  # the test settings leave RECOVER_RUNS_AT_STARTUP off
    assert TrainingRun.objects.get(pk=run.pk).status == Status.RUNNING


@needs_dataset
def test_the_external_worker_loop_runs_what_the_server_queued(settings):
    settings.RETRIEVAL = {**settings.RETRIEVAL, "TRAINING_WORKER": "external"}
    run = start()
    assert TrainingRun.objects.get(pk=run.pk).status == Status.QUEUED  # the server only queues
    assert tasks.work_forever(once=True) == 1
    assert TrainingRun.objects.get(pk=run.pk).status == Status.FINISHED


@needs_dataset
def test_command_line_trains_with_the_same_service_and_records_the_run(tmp_path, capsys):
    out = tmp_path / "cli.pt"
    call_command("train", "descriptor", "--epochs", "1", "--subset", "200", "--batch-size", "64", "--eval-queries", "100",
                 "--no-augment", "--device", "cpu", "--out", str(out))
    run = TrainingRun.objects.get()
    assert run.origin == "cli" and run.status == Status.FINISHED and run.checkpoint == str(out) and out.is_file()
    assert run.config["augment"] is False and run.config["batch_size"] == 64
    printed = capsys.readouterr().out
    assert f"run #{run.pk}" in printed and "saved" in printed and "P@5=" in printed


@pytest.mark.parametrize(("argv", "message"), [
    (["--epochs", "-1"], "epochs must be at least 1"),
    (["--batch-size", "0", "--device", "tpu"], "batch size must be at least 1; unknown device 'tpu'"),
    (["--lr", "fast"], "lr: 'fast' is not a number"),
])
def test_command_line_rejects_bad_options_before_training(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("train", "descriptor", *argv)
    assert not TrainingRun.objects.exists()


def test_command_line_keeps_its_keyword_form(tmp_path, monkeypatch):
    """setup_demo calls ``call_command("train", "descriptor", epochs=3)``: keyword options still work."""
    seen = {}
    stub = lambda run_id, **kw: seen.setdefault("run", TrainingRun.objects.get(pk=run_id))  # noqa: E731
    monkeypatch.setattr(tasks, "execute_training", stub)
    with pytest.raises(CommandError, match="running"):  # the stub leaves the run running
        call_command("train", "descriptor", epochs=3, subset=100, out=tmp_path / "x.pt")
    assert seen["run"].config["epochs"] == 3 and seen["run"].config["subset"] == 100
