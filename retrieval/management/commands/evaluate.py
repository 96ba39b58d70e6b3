"""python manage.py evaluate <task> [--json] [task options]: offline retrieval quality.

Each task is an entry of ``retrieval.core.evaluation.EVALUATIONS`` and becomes a subcommand
with its own options, e.g. `evaluate image --queries 1000 --metric cosine --json`.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from retrieval.core.evaluation import EVALUATIONS, InvalidOptions
from retrieval.engine.errors import EngineError


class Command(BaseCommand):
    help = "Measure retrieval quality offline and print a table, or one JSON object with --json."

    def add_arguments(self, parser):
        tasks = parser.add_subparsers(dest="task", metavar="task", required=True)
        for task in EVALUATIONS.values():
            sub = tasks.add_parser(task.name, help=task.help, description=task.help)
            sub.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")
            task.add_arguments(sub)

    def handle(self, *args, task: str, as_json: bool, **options):
        evaluation = EVALUATIONS.get(task)
        try:
            report = evaluation.run(**options)
        except (EngineError, FileNotFoundError, InvalidOptions) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(report) if as_json else evaluation.render(report))
