"""python manage.py train descriptor [--arch fmnist_cnn] [--epochs 15] ... : train a model
with a progress bar. The same services run from the training page (issue 3)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retrieval.engine.config import DescriptorTrainConfig
from retrieval.engine.nets import NETS
from retrieval.progress_console import ConsoleProgress
from retrieval.services import descriptor_train


class Command(BaseCommand):
    help = "Train a model family on its gallery (today: the descriptor CNN)."

    def add_arguments(self, parser):
        parser.add_argument("family", choices=["descriptor"])
        defaults = DescriptorTrainConfig()
        parser.add_argument("--arch", default=defaults.arch, choices=NETS.names())
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--lr", type=float, default=defaults.lr)
        parser.add_argument("--subset", type=int, default=None, help="train on a balanced subset of N images")
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--device", default=defaults.device)
        parser.add_argument("--no-augment", action="store_true")
        parser.add_argument("--out", type=Path, default=None,
                            help="checkpoint path (default: retrieval/checkpoints/descriptor-ARCH.pt)")

    def handle(self, *args, **opts):
        try:
            config = DescriptorTrainConfig(
                arch=opts["arch"], epochs=opts["epochs"], batch_size=opts["batch_size"], lr=opts["lr"],
                subset=opts["subset"], seed=opts["seed"], device=opts["device"], augment=not opts["no_augment"],
            )
        except ValueError as error:
            raise CommandError(f"invalid configuration: {error}") from None
        out = opts["out"] or settings.RETRIEVAL["CHECKPOINT_DIR"] / f"descriptor-{config.arch}.pt"
        result = descriptor_train(config=config, out_path=out, callback=ConsoleProgress(self.stdout))
        self.stdout.write(self.style.SUCCESS(
            f"saved {result.checkpoint} in {result.seconds:.0f} s on {result.device}: "
            + ", ".join(f"{k}={v}" for k, v in result.metrics.items())
        ))
