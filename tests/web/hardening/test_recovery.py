"""Crash recovery: temp files of interrupted writes, interrupted runs, relative index paths,
and a server that answers while it starts."""

import importlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.apps import apps

pytestmark = pytest.mark.django_db


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_start_up_removes_temp_files_of_interrupted_writes(settings):
    from portal.startup import remove_stale_temp_files

    folder = Path(settings.RETRIEVAL["INDEX_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / f".fashion-mnist-abc.npz.{dead_pid()}-0.tmp"  # kill -9 during an index save
    stale.write_bytes(b"\0" * 4096)
    live = folder / f".other.npz.{os.getpid()}-7.tmp"  # this process, still writing
    live.write_bytes(b"")
    try:
        assert remove_stale_temp_files() >= 1
        assert not stale.exists() and live.exists()
    finally:
        live.unlink(missing_ok=True)


def test_an_interrupted_run_names_no_checkpoint_unless_the_file_exists(settings, tmp_path):
    from retrieval.models import TrainingRun
    from retrieval.training.services import training_runs_mark_interrupted

    Status = TrainingRun.Status

    written = tmp_path / "written.pt"
    written.write_bytes(b"checkpoint")
    worker = f"{socket.gethostname()}:{dead_pid()}"  # a process of this host that is gone
    never = TrainingRun.objects.create(family="descriptor", status=Status.RUNNING, worker=worker,
                                       checkpoint=str(tmp_path / "never-written.pt"))
    saved = TrainingRun.objects.create(family="descriptor", status=Status.RUNNING, worker=worker,
                                       checkpoint=str(written))
    training_runs_mark_interrupted()
    never.refresh_from_db()
    saved.refresh_from_db()
    assert never.status == saved.status == Status.INTERRUPTED
    assert never.checkpoint == "" and saved.checkpoint == str(written)


def test_index_versions_store_paths_relative_to_the_index_folder(gallery, settings):
    from retrieval.galleries.services import index_rebuild

    version = index_rebuild(gallery=gallery, force=True)
    assert not Path(version.path).is_absolute() and "/" not in version.path
    assert version.resolved_path == Path(settings.RETRIEVAL["INDEX_DIR"]) / version.path
    assert version.resolved_path.is_file()
    assert index_rebuild(gallery=gallery).pk == version.pk  # found again: up to date, not rebuilt


def test_the_migration_makes_old_absolute_paths_relative(gallery, settings):
    from retrieval.models import IndexVersion

    migration = importlib.import_module("retrieval.migrations.0003_index_paths_relative")
    folder = Path(settings.RETRIEVAL["INDEX_DIR"]).resolve()
    fields = {"gallery": gallery, "checkpoint_id": "c", "checkpoint_name": "c.pt", "count": 1, "dim": 2, "seconds": 0}
    inside = IndexVersion.objects.create(path=str(folder / "a-1.npz"), **fields)
    elsewhere = IndexVersion.objects.create(path="/old/checkout/var/indexes/b-2.npz", **fields)
    relative = IndexVersion.objects.create(path="c-3.npz", **fields)
    migration.to_relative(apps, None)
    paths = {v.pk: v.path for v in IndexVersion.objects.filter(pk__in=[inside.pk, elsewhere.pk, relative.pk])}
    assert paths == {inside.pk: "a-1.npz", elsewhere.pk: "b-2.npz", relative.pk: "c-3.npz"}
    migration.to_absolute(apps, None)
    assert IndexVersion.objects.get(pk=inside.pk).path == str(folder / "a-1.npz")


# --- answering while starting ------------------------------------------------------------

async def test_while_django_loads_http_is_503_with_retry_after_and_sockets_are_refused():
    from portal.asgi import StartingApplication

    starting = StartingApplication()  # not started: as in the seconds before Django is set up
    api = await HttpCommunicator(starting, "POST", "/api/search/").get_response()
    page = await HttpCommunicator(starting, "GET", "/").get_response()
    assert api["status"] == page["status"] == 503
    assert dict(api["headers"])[b"retry-after"] == b"3" and b"warming_up" in api["body"]
    assert b"starting" in page["body"] and b"refresh" in page["body"]
    socket = WebsocketCommunicator(starting, "/ws/search/", headers=[(b"origin", b"http://testserver")])
    assert not (await socket.connect())[0]


async def test_once_built_the_starting_application_serves_django():
    from portal.asgi import StartingApplication, application

    starting = StartingApplication()
    starting.application = application
    response = await HttpCommunicator(starting, "GET", "/api/galleries/", headers=[(b"host", b"testserver")]).get_response()
    assert response["status"] == 200


@pytest.fixture
def warming():
    from retrieval.core import runtime

    runtime.begin_warming()
    yield
    runtime._warm_state["state"] = "cold"


@pytest.mark.parametrize("url", ["/api/search/", "/api/sketch/search/", "/api/degraded/"])
def test_while_models_load_queries_are_a_warming_up_503(client, gallery, warming, url):
    response = client.post(url, {"k": 1})
    assert response.status_code == 503 and response.json()["error"] == "warming_up"
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("url", ["/", "/sketch/", "/degraded/"])
def test_while_models_load_query_pages_say_so(client, gallery, warming, url):
    response = client.get(url)
    assert response.status_code == 503 and b"warming up" in response.content
    assert response.has_header("Retry-After")


def test_while_models_load_other_pages_are_served(client, gallery, warming):
    assert client.get("/galleries/").status_code == 200
    assert client.get("/api/galleries/").status_code == 200


async def test_while_models_load_the_socket_says_so(gallery, warming):
    from tests.support.sockets import connect

    communicator = await connect()
    await communicator.send_to(text_data='{"type": "search", "image": "x"}')
    assert "warming up" in await communicator.receive_from(timeout=20)
    await communicator.disconnect()
