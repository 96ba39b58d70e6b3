"""python manage.py train FAMILY [options]: train a registered model family in the
foreground with a progress bar, e.g. `train descriptor --epochs 20 --subset 6000`.

The options are generated from each family's config dataclass (`--batch-size` for
``batch_size``, `--augment/--no-augment` for booleans); values go through the same
coercion and validation as the training page and the API. The run is recorded like a run
started from the browser, so it appears in the training centre (live, with the Redis layer).
"""

import argparse
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from retrieval.engine.errors import InvalidConfig
from retrieval.engine.options import config_options
from retrieval.engine.training.registry import TRAINERS, get_trainer
from retrieval.models import TrainingRun
from retrieval.training import services as training_services
from retrieval.training import worker as tasks
from retrieval.training.console import ConsoleProgress


def _options_by_name() -> dict[str, list]:
    """Every option of every family, by name (families may share names such as epochs)."""
    merged: dict[str, list] = {}
    for name in TRAINERS.names():
        for opt in config_options(get_trainer(name).config_cls):
            merged.setdefault(opt.name, []).append((name, opt))
    return merged


class Command(BaseCommand):
    help = "Train a model family (" + ", ".join(TRAINERS.names()) + ") with a progress bar; the run is recorded."

    def add_arguments(self, parser):
        parser.add_argument("family", choices=TRAINERS.names())
        for name, owners in _options_by_name().items():
            opt = owners[0][1]
            families = ", ".join(family for family, _ in owners)
            help_text = f"{opt.help} (default: {opt.default}; {families})"
            if opt.choices:
                help_text += f"; one of {', '.join(opt.choices)}"
            if opt.kind is bool:
                parser.add_argument(opt.flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
            else:  # text: the shared coercion step turns it into the option's type, with its messages
                parser.add_argument(opt.flag, dest=name, default=None, metavar=opt.kind.__name__.upper(), help=help_text)
        parser.add_argument("--out", type=Path, default=None,
                            help="checkpoint path (default: retrieval/checkpoints/<the family's file name>)")
        parser.add_argument("--private", action="store_true", help="only staff may watch the run in the browser")

    def handle(self, *args, family: str, out: Path | None, private: bool, **opts):
        spec = get_trainer(family)
        names = {opt.name for opt in config_options(spec.config_cls)}
        given = {name: opts[name] for name in _options_by_name() if opts.get(name) is not None}
        foreign = sorted(set(given) - names)
        if foreign:
            raise CommandError(f"{', '.join('--' + n.replace('_', '-') for n in foreign)} does not apply to {family}")
        try:
            config = spec.build_config(given)
        except InvalidConfig as error:
            raise CommandError(f"invalid configuration: {error}") from None
        # Absolute: the run record is read by other processes (activation) with other working directories.
        out = (out or Path(settings.RETRIEVAL["CHECKPOINT_DIR"]) / spec.default_checkpoint_name(config)).resolve()
        try:
            run = training_services.training_run_create(family=family, values=given, origin="cli", out_path=out,
                                                        public=not private, run_here=True)
        except DatabaseError as error:
            raise CommandError(f"cannot record the run ({error}): run `python manage.py migrate` first") from None
        self.stdout.write(f"run #{run.pk}: {family}")
        try:
            run = tasks.execute_training(run.pk, extra_callback=ConsoleProgress(self.stdout))
        except KeyboardInterrupt:
            raise CommandError(f"run #{run.pk} interrupted from the keyboard") from None
        self._report(run)

    def _report(self, run: TrainingRun) -> None:
        if run.status != TrainingRun.Status.FINISHED:
            raise CommandError(f"run #{run.pk} {run.status}: {run.error}")
        self.stdout.write(self.style.SUCCESS(
            f"saved {run.checkpoint} in {run.train_seconds:.0f} s on {run.device}: "
            + ", ".join(f"{k}={v}" for k, v in run.final_metrics.items())
        ))
