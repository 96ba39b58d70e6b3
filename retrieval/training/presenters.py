"""How a training run is shown: its loss summary, ETA, sample grid, and file paths as visitors may see them."""

import os
import re
import time
from pathlib import Path

from PIL import Image

from retrieval.core.presenters import png_data_url

LOSS_COLOURS = ("#3e63dd", "#e5484d", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#d6409f", "#6f6e77")


def sample_grid_data_url(images, columns: int = 8) -> str:
    """A trainer's samples (uint8 [N, H, W] or [N, H, W, C], or PIL images) tiled into one PNG."""
    import numpy as np

    tiles = [np.asarray(image) for image in images]
    if not tiles:
        return ""
    h, w = tiles[0].shape[:2]
    mode = "L" if tiles[0].ndim == 2 else "RGB"
    rows = -(-len(tiles) // columns)
    grid = Image.new(mode, (min(columns, len(tiles)) * (w + 2), rows * (h + 2)), 0)
    for i, tile in enumerate(tiles):
        grid.paste(Image.fromarray(np.ascontiguousarray(tile[..., :3] if tile.ndim == 3 else tile).astype(np.uint8), mode),
                   ((i % columns) * (w + 2) + 1, (i // columns) * (h + 2) + 1))
    return png_data_url(grid)


def loss_summary(curve: list[dict]) -> list[dict]:
    """Per loss term: its colour (as static/js/charts.js draws it), the latest value, the
    step it was logged at, and the lowest value so far: the page's table beside the chart,
    and all there is of it without JavaScript."""
    names = sorted({name for point in curve for name in point["losses"]})
    rows = []
    for i, name in enumerate(names):
        points = [(p["step"], p["losses"][name]) for p in curve if name in p["losses"]]
        rows.append({"name": name, "colour": LOSS_COLOURS[i % len(LOSS_COLOURS)], "step": points[-1][0],
                     "last": points[-1][1], "lowest": min(v for _, v in points)})
    return rows


def eta_text(progress: dict, *, ended: bool) -> str:
    """The run's ETA as the page shows it, saying what it covers; static/js/training.js words it the same."""
    eta, phase = progress.get("eta_s"), progress.get("phase", "training")
    if ended:
        return "—"
    if eta is None:
        return "no estimate yet" if phase == "evaluating" or progress.get("step") else "—"
    if phase == "evaluating":
        left = eta - (time.time() - progress.get("phase_since", time.time()))
        return duration_text(left) if left > 0 else "any moment now"
    words = duration_text(eta)
    return words if progress.get("eta_covers_evaluation") else f"{words} + evaluation"


def duration_text(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60)} s" if seconds >= 90 else f"{round(seconds)} s"


# --- server paths: pages and API answers name files relative to their folder, never where they live

def _roots() -> list[tuple[str, str]]:
    """Absolute folders and how to write a path under them, most specific first."""
    from django.conf import settings

    folders = [(settings.RETRIEVAL["RUNS_DIR"], ""), (settings.RETRIEVAL["CHECKPOINT_DIR"], ""),
               (settings.RETRIEVAL["INDEX_DIR"], ""), (settings.MEDIA_ROOT, ""), (settings.BASE_DIR, "")]
    return sorted(((str(Path(folder).resolve()), prefix) for folder, prefix in folders), key=lambda r: -len(r[0]))


def public_path(path: str | Path | None) -> str:
    """A file's name relative to the runs, checkpoint, index or project folder it is in; a
    file anywhere else by its name alone."""
    if not path:
        return ""
    resolved = str(Path(path).resolve()) if Path(path).is_absolute() else str(path)
    for root, prefix in _roots():
        if resolved.startswith(root + os.sep):
            return prefix + resolved[len(root) + 1:]
    return Path(path).name


_ABSOLUTE = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)+[\w.@+-]*")


def without_paths(text: str | None) -> str:
    """``text`` (an error message) with every absolute path in it written as ``public_path`` does."""
    return _ABSOLUTE.sub(lambda m: public_path(m.group(0)) or m.group(0), text or "")


def public_config(config: dict) -> dict:
    """A run's configuration with any path in its values (``init_from``, a teacher ...) made public."""
    return {key: without_paths(value) if isinstance(value, str) else value for key, value in (config or {}).items()}
