"""Helpers shared by the benchmark scripts: repository paths and latency summaries."""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    """Progress goes to stderr so that stdout carries only the JSON report."""
    print(message, file=sys.stderr, flush=True)


def summarise(values_ms) -> dict:
    """p50, p95, mean, min and max of a list of milliseconds, rounded for reading."""
    values = np.asarray(values_ms, dtype=np.float64)
    if values.size == 0:
        return {"n": 0}
    return {"n": int(values.size), "p50": _r(np.percentile(values, 50)), "p95": _r(np.percentile(values, 95)),
            "mean": _r(values.mean()), "min": _r(values.min()), "max": _r(values.max())}


def _r(value: float) -> float:
    return round(float(value), 3)
