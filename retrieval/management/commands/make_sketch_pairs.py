"""python manage.py make_sketch_pairs [--method hed|canny ...] [--split train|test ...] [--limit N] [--force]"""

from django.core.management.base import BaseCommand, CommandError

from retrieval.engine.sketch.pairs import EDGE_METHODS
from retrieval.sketch.services import sketch_dir, sketch_pairs_make

from ._progress import ProgressBar


class Command(BaseCommand):
    help = ("Edge maps (HED and Canny) of Fashion-MNIST's images, cached as sketch-image pairs for the "
            "sketch GAN, the sketch encoder and `evaluate sketch`. Files already made are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--method", dest="methods", action="append", choices=EDGE_METHODS,
                            help="edge method (repeatable; default: all)")
        parser.add_argument("--split", dest="splits", action="append", choices=("train", "test"),
                            help="split (repeatable; default: both)")
        parser.add_argument("--limit", type=int, default=None, help="only the first N images of each split")
        parser.add_argument("--force", action="store_true", help="make the files again")

    def handle(self, *args, methods, splits, limit, force, **opts):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be a positive integer")
        try:
            written = sketch_pairs_make(methods=tuple(methods or EDGE_METHODS), splits=tuple(splits or ("train", "test")),
                                        limit=limit, force=force, progress=lambda label: ProgressBar(self.stdout, label))
        except FileNotFoundError as error:
            raise CommandError(str(error)) from None
        for path in written:
            self.stdout.write(self.style.SUCCESS(f"wrote {path}"))
        if not written:
            self.stdout.write(f"sketch pairs in {sketch_dir()} are up to date")
