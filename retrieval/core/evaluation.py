"""Evaluation tasks behind `manage.py evaluate <task>`: the registry and the helpers every task shares.

A task is one entry in ``EVALUATIONS``: its command-line options, a function that returns the
JSON report, and a readable rendering of that report. A task prepares what it needs (sketch
pairs, degraded queries ...) itself, so it runs on a fresh set-up; its progress bars go to
stderr, so that with --json stdout stays one JSON object. Each capability registers its own task
with its query kind (``core.kinds``); tasks that belong to no query kind call
``register_evaluation`` from their capability's ``register.py``.
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from tqdm import tqdm

from retrieval.engine.registry import Registry


class InvalidOptions(ValueError):
    """A combination of options the task cannot run with; the message names the option."""


@dataclass(frozen=True)
class EvaluationTask:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[..., dict]  # the parsed options (extra keys ignored) -> the JSON report
    render: Callable[[dict], str]  # the report as a readable table


EVALUATIONS = Registry("evaluation task")


def register_evaluation(task: EvaluationTask) -> EvaluationTask:
    EVALUATIONS.register(task.name)(task)
    return task


def timings_line(seconds: float, timings: dict) -> str:
    parts = [f"describe {timings['describe']:.1f} s"] + [
        f"{metric} top-k {t['topk']:.1f} s + mAP {t['mAP']:.1f} s" for metric, t in timings.items() if metric != "describe"
    ]
    return f"{seconds:.1f} s in all: " + ", ".join(parts)


def target_line(target: dict) -> str:
    measure = next(k for k in target if k not in ("met", "by_metric"))
    verdicts = ", ".join(f"{m} {'met' if ok else 'MISSED'}" for m, ok in target["by_metric"].items())
    return f"target {measure} >= {target[measure]}: {verdicts}"


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return number


def progress_bar(label: str, unit: str = "img") -> Callable[[int, int], None]:
    """A (done, total) progress callback drawing a tqdm bar on stderr."""
    state: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, desc=label, unit=unit, dynamic_ncols=True, file=sys.stderr)
        state["bar"].update(done - state["bar"].n)
        if done >= total:
            state["bar"].close()

    return update


def progress_iter(items, label: str, unit: str = "img"):
    """``items`` with a tqdm bar on stderr."""
    return tqdm(items, desc=label, unit=unit, dynamic_ncols=True, file=sys.stderr)
