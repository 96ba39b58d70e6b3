"""python manage.py import_gallery [--limit N]: Fashion-MNIST's idx files -> gallery rows and files."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retrieval.galleries.services import gallery_import_fashion_mnist

from ._progress import ProgressBar


class Command(BaseCommand):
    help = "Import Fashion-MNIST (train split = gallery, test split = queries). Skips splits already imported."

    def add_arguments(self, parser):
        parser.add_argument("--folder", type=Path, default=settings.RETRIEVAL["FASHION_MNIST_DIR"])
        parser.add_argument("--limit", type=int, default=None, help="import only the first N images of each split")

    def handle(self, *args, folder: Path, limit: int | None, **opts):
        if not folder.is_dir():
            raise CommandError(f"{folder} does not exist: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR")
        gallery = gallery_import_fashion_mnist(folder=folder, limit=limit, progress=ProgressBar(self.stdout, "import"))
        counts = {split: gallery.images.filter(split=split).count() for split in ("train", "test")}
        self.stdout.write(self.style.SUCCESS(f"{gallery.name}: {counts['train']} gallery and {counts['test']} query images"))
