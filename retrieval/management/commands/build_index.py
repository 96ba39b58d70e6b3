"""python manage.py build_index [--gallery SLUG] [--checkpoint PATH] [--force]"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retrieval.galleries.services import index_rebuild
from retrieval.models import Gallery

from ._progress import ProgressBar


class Command(BaseCommand):
    help = "Describe every gallery image with a checkpoint and save the FAISS index (skips an up-to-date one)."

    def add_arguments(self, parser):
        parser.add_argument("--gallery", default=settings.RETRIEVAL["DEFAULT_GALLERY"])
        parser.add_argument("--checkpoint", type=Path, default=None)
        parser.add_argument("--force", action="store_true", help="rebuild even when an index exists")

    def handle(self, *args, gallery: str, checkpoint: Path | None, force: bool, **opts):
        found = Gallery.objects.filter(slug=gallery).first()
        if found is None:
            raise CommandError(f"no gallery {gallery!r}: run `python manage.py import_gallery` first")
        if checkpoint is not None and not checkpoint.exists():
            raise CommandError(f"{checkpoint} does not exist")
        version = index_rebuild(gallery=found, checkpoint=checkpoint, force=force, progress=ProgressBar(self.stdout, "index"))
        self.stdout.write(self.style.SUCCESS(
            f"index {Path(version.path).name}: {version.count} x {version.dim}, checkpoint {version.checkpoint_id}"
            f" ({version.count / max(version.seconds, 1e-9):.0f} images/s when built)"))
