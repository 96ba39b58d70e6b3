"""The set-up that `make run` leaves running beside the server, as the pages see it."""

import json
import subprocess
import sys

import pytest

from retrieval.core import setup_state
from retrieval.engine.errors import NotReady


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def other_process():
    """A live process to own the state file: a server reads the set-up of another process."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def owned_by(var_dir, pid: int) -> None:
    path = var_dir / "setup-demo.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "pid": pid}))


def test_a_running_set_up_names_its_step_and_its_pending_galleries(var_dir, other_process):
    assert setup_state.current() is None and not setup_state.preparing("textures")
    setup_state.record_step("importing and indexing the colour stamps", ["tuxpaint-stamps", "textures"])
    assert not setup_state.preparing("textures")  # the set-up itself reads what it prepares
    owned_by(var_dir, other_process)
    assert setup_state.preparing("tuxpaint-stamps") and setup_state.preparing("textures")
    assert not setup_state.preparing("fashion-mnist")
    message = setup_state.not_ready_message("The texture gallery")
    assert "being prepared in the background" in message and "colour stamps" in message and "make setup" not in message
    started = setup_state.current()["started"]
    setup_state.record_step("importing and coding the textures", ["textures"])  # as the set-up process would
    assert setup_state.current()["started"] == started  # one set-up, its first start
    assert not setup_state.preparing("tuxpaint-stamps") and setup_state.preparing("textures")
    setup_state.finished()
    assert setup_state.current() is None and not (var_dir / "setup-demo.json").exists()
    assert "run `make setup`" in setup_state.not_ready_message("The texture gallery")


def test_the_file_of_a_killed_set_up_reads_as_none(var_dir):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (var_dir / "setup-demo.json").write_text(json.dumps({"pid": int(gone.stdout), "started": 0, "pending": ["textures"]}))
    assert setup_state.current() is None and not setup_state.preparing("textures")
    (var_dir / "setup-demo.json").write_text("{not json")
    assert setup_state.current() is None


@pytest.mark.django_db
def test_pages_of_a_gallery_being_prepared_say_so(var_dir, other_process):
    from retrieval.composites.services import composite_gallery
    from retrieval.lab.queries import gallery_lab_indexes
    from retrieval.models import Gallery
    from retrieval.texture.services import texture_gallery

    setup_state.record_step("importing and indexing the colour stamps", ["tuxpaint-stamps", "textures"])
    owned_by(var_dir, other_process)
    stamps = Gallery(slug="tuxpaint-stamps", name="Tux Paint stamps")
    for call in (texture_gallery, lambda: composite_gallery("tuxpaint-stamps"), lambda: gallery_lab_indexes(stamps)):
        with pytest.raises(NotReady, match="being prepared in the background"):
            call()


@pytest.mark.django_db
@pytest.mark.parametrize("page_id", ["lab", "composites"])
def test_the_lab_and_composites_pages_say_so_before_any_query(client, var_dir, other_process, page_id):
    from retrieval.models import Gallery

    Gallery.objects.get_or_create(slug="tuxpaint-stamps", defaults={"name": "Tux Paint stamps"})
    setup_state.record_step("importing and indexing the colour stamps", ["tuxpaint-stamps", "textures"])
    owned_by(var_dir, other_process)
    page = client.get(f"/{page_id}/?gallery=tuxpaint-stamps").content.decode()
    assert f'id="{page_id}-not-ready"' in page and "being prepared in the background" in page
    setup_state.finished()
    assert f'id="{page_id}-not-ready"' not in client.get(f"/{page_id}/?gallery=tuxpaint-stamps").content.decode()
