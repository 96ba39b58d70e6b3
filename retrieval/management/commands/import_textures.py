"""python manage.py import_textures [--textures N] [--slug textures]: the texture gallery.

Writes the texture protocol's database crops (16 training-region crops of 32 px per texture,
171 classes: the GIMP patterns and scikit-image's brick, grass and gravel) into
var/textures/, one folder per class, and imports that folder as a labelled gallery (the
folder importer, ``retrieval.galleries.folders``). Takes seconds.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retrieval.engine.texture.gallery import write_database_crops
from retrieval.engine.texture.patterns import load_textures
from retrieval.galleries.folders import gallery_import_folder
from retrieval.texture.evaluation import patterns_dir


class Command(BaseCommand):
    help = "Import the texture gallery (database crops of every packaged texture, one class each)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="textures")
        parser.add_argument("--textures", type=int, default=None, help="only the first N textures")
        parser.add_argument("--folder", type=Path, default=None, help="where the crops are written (default var/textures)")

    def handle(self, *args, slug: str, textures: int | None, folder: Path | None, **opts):
        source = patterns_dir()
        if not source.is_dir():
            raise CommandError(f"{source} does not exist: install Debian's gimp-data and gimp-data-extras")
        folder = folder or Path(settings.BASE_DIR) / "var" / "textures"
        chosen = load_textures(source, limit=textures)
        written = write_database_crops(chosen, folder)
        result = gallery_import_folder(folder=folder, slug=slug, name="Textures", labels="subfolders",
                                       description="Training-region crops of the GIMP patterns and scikit-image textures.")
        gallery = result.gallery
        self.stdout.write(self.style.SUCCESS(
            f"{gallery.name}: {written} crops written, {result.count('imported')} imported, "
            f"{result.count('duplicate')} duplicates skipped; {gallery.images.count()} images in "
            f"{len(gallery.class_names)} classes"))
