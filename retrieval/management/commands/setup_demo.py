"""python manage.py setup_demo: everything the demo needs after `migrate`, each step skipped when done."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from retrieval.core.runtime import default_checkpoint_path
from retrieval.lab.services import lab_demo_gallery_import
from retrieval.texture.services import texture_setup

from ._progress import ProgressBar


class Command(BaseCommand):
    help = ("Import the gallery, make sure a descriptor checkpoint exists, build the index. The degraded "
            "page's robust index and the photo descriptor's are built by the server after it starts "
            "(or `build_index --checkpoint`).")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="import only N images per split (quick trials)")

    def handle(self, *args, limit: int | None, **opts):
        call_command("import_gallery", limit=limit, stdout=self.stdout)
        if not default_checkpoint_path().exists():
            self.stdout.write("no committed checkpoint found: training a quick descriptor (3 epochs)")
            call_command("train", "descriptor", epochs=3, stdout=self.stdout)
        call_command("build_index", stdout=self.stdout)
        # The colour stamps gallery (Debian tuxpaint-stamps-default) and its lab indexes.
        lab_demo_gallery_import(stdout=self.stdout, progress=ProgressBar(self.stdout, "lab index"))
        texture_setup(stdout=self.stdout)  # the texture gallery and its binary indexes (about 20 s the first time)
