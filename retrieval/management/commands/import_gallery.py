"""python manage.py import_gallery [--limit N]: Fashion-MNIST's idx files -> gallery rows and files.

python manage.py import_gallery --folder PATH --slug S [--name N] [--labels subfolders|none]:
every image under a folder (``retrieval.galleries.folders``), with the audit printed at the end.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retrieval.galleries.folders import LABEL_MODES, audit_path, gallery_import_folder
from retrieval.galleries.services import gallery_import_fashion_mnist

from ._progress import ProgressBar


class Command(BaseCommand):
    help = ("Import Fashion-MNIST (train split = gallery, test split = queries; skips splits already imported), "
            "or with --slug every image under --folder.")

    def add_arguments(self, parser):
        parser.add_argument("--folder", type=Path, default=None,
                            help="Fashion-MNIST's idx files (default: FASHION_MNIST_DIR), or with --slug an image folder")
        parser.add_argument("--limit", type=int, default=None, help="import only the first N images of each split")
        parser.add_argument("--slug", default=None, help="import the folder's images as the gallery with this slug")
        parser.add_argument("--name", default=None, help="the folder gallery's name (default: the slug)")
        parser.add_argument("--labels", choices=LABEL_MODES, default="subfolders",
                            help="a class per first-level subfolder, or no labels")

    def handle(self, *args, folder: Path | None, limit: int | None, slug: str | None, name: str | None, labels: str,
               **opts):
        if slug:
            return self._import_folder(folder, slug, name, labels)
        folder = folder or settings.RETRIEVAL["FASHION_MNIST_DIR"]
        if not folder.is_dir():
            raise CommandError(f"{folder} does not exist: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR")
        gallery = gallery_import_fashion_mnist(folder=folder, limit=limit, progress=ProgressBar(self.stdout, "import"))
        counts = {split: gallery.images.filter(split=split).count() for split in ("train", "test")}
        self.stdout.write(self.style.SUCCESS(f"{gallery.name}: {counts['train']} gallery and {counts['test']} query images"))

    def _import_folder(self, folder: Path | None, slug: str, name: str | None, labels: str) -> None:
        if folder is None or not folder.is_dir():
            raise CommandError(f"--folder {folder} is not a folder")
        result = gallery_import_folder(folder=folder, slug=slug, name=name, labels=labels,
                                       progress=ProgressBar(self.stdout, "import"))
        for entry in result.entries:
            if entry.status == "refused" or (entry.status == "duplicate" and not entry.reason.startswith("already")):
                self.stdout.write(f"{entry.status:>9}  {entry.path}: {entry.reason}")
        gallery = result.gallery
        self.stdout.write(self.style.SUCCESS(
            f"{gallery.name}: {result.count('imported')} imported, {result.count('duplicate')} skipped as duplicates, "
            f"{result.count('refused')} refused, {result.ignored} files that are not images ignored; "
            f"{gallery.images.count()} images in {len(gallery.class_names)} classes. Audit: {audit_path(gallery.slug)}"))
