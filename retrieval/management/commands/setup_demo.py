"""python manage.py setup_demo: everything the demo needs after `migrate`, each step skipped when done."""

import time
import urllib.error
import urllib.request

from django.core.management import call_command
from django.core.management.base import BaseCommand

from retrieval.core import setup_state
from retrieval.core.runtime import default_checkpoint_path
from retrieval.lab.services import STAMPS_SLUG, lab_demo_gallery_import
from retrieval.texture.services import SLUG as TEXTURE_SLUG
from retrieval.texture.services import texture_setup

from ._progress import ProgressBar


class Command(BaseCommand):
    help = ("Import the gallery, make sure a descriptor checkpoint exists, build the index; then the other demo "
            "galleries (the colour stamps with their lab indexes, the textures with their binary indexes). The "
            "degraded page's robust index and the photo descriptor's are built by the server after it starts "
            "(or `build_index --checkpoint`).")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="import only N images per split (quick trials)")
        parser.add_argument("--search-only", action="store_true",
                            help="only what the search page needs (`make run` serves, then runs the rest beside it)")
        parser.add_argument("--after", metavar="URL", default=None,
                            help="first wait (up to 10 minutes) until this URL answers without 'warming up' (503): "
                                 "the server's start-up gets the CPU to itself")

    def handle(self, *args, limit: int | None, search_only: bool, after: str | None, **opts):
        if search_only:
            self.search_gallery(limit)
            return
        # Pages that need a gallery still listed as pending say "being prepared" (setup_state).
        try:
            setup_state.record_step("waiting for the server to start", [STAMPS_SLUG, TEXTURE_SLUG])
            if after:
                wait_until_served(after)
            self.search_gallery(limit)
            setup_state.record_step("importing and indexing the colour stamps", [STAMPS_SLUG, TEXTURE_SLUG])
            lab_demo_gallery_import(stdout=self.stdout, progress=ProgressBar(self.stdout, "lab index"))
            setup_state.record_step("importing and coding the textures", [TEXTURE_SLUG])
            texture_setup(stdout=self.stdout)  # the texture gallery and its binary indexes (about 20 s the first time)
        finally:
            setup_state.finished()

    def search_gallery(self, limit: int | None) -> None:
        call_command("import_gallery", limit=limit, stdout=self.stdout)
        if not default_checkpoint_path().exists():
            self.stdout.write("no committed checkpoint found: training a quick descriptor (3 epochs)")
            call_command("train", "descriptor", epochs=3, stdout=self.stdout)
        call_command("build_index", stdout=self.stdout)

def wait_until_served(url: str, timeout_s: float = 600.0) -> bool:
    """Poll ``url`` until it answers with anything but 503 (or connection refused)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10):
                return True
        except urllib.error.HTTPError as error:
            if error.code != 503:
                return True
        except OSError:
            pass
        time.sleep(1.0)
    return False
