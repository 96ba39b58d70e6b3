"""Turn engine results into what templates show: data URLs and chart geometry."""

import base64

import numpy as np
from PIL import Image

from .engine.explain import Histogram
from .engine.images import encode_png
from .engine.runtime import QueryResult

CHANNEL_COLOURS = {"R": "#e5484d", "G": "#30a46c", "B": "#3e63dd", "I": "#6f6e77"}
PREVIEW_SIDE = 256


def png_data_url(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_png(image)).decode()


def query_preview(query: QueryResult) -> dict:
    """The uploaded image (shrunk for display, never stored) and the network's view of it."""
    shown = query.decoded.image.copy()
    shown.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return {
        "original": png_data_url(shown), "network_view": png_data_url(query.view.image),
        "inverted": query.view.inverted, "width": query.decoded.image.width, "height": query.decoded.image.height,
        "format": query.decoded.format, "frames": query.decoded.frames, "colour": query.decoded.is_colour,
        "timings": query.timings_ms, "total_ms": round(sum(query.timings_ms.values()), 2),
    }


def sketch_preview(result) -> dict:
    """A sketch query (``engine.sketch.search.SketchQueryResult``) as the sketch page shows it:
    the drawing as the models saw it, the GAN's image (None when no GAN is trained), the mode."""
    from .engine.sketch.search import SKETCH_MODES

    mode = SKETCH_MODES[result.mode]
    return {
        "sketch_view": png_data_url(result.view.image),
        "generated": png_data_url(result.generated) if result.generated is not None else None,
        "mode": mode.name, "mode_title": mode.title, "width": result.decoded.image.width,
        "height": result.decoded.image.height, "timings": result.timings_ms,
        "total_ms": round(sum(result.timings_ms.values()), 2),
    }


def histogram_polylines(query: Histogram, result: Histogram, width: int, height: int) -> list[dict]:
    """SVG polyline points for each channel of both histograms, on one shared square-root y
    scale: a dominant background bin would otherwise flatten every other bin to the axis."""
    peak = np.sqrt(max(float(query.values.max()), float(result.values.max()), 1e-9))
    step = width / max(query.bins - 1, 1)

    def points(row) -> str:
        return " ".join(f"{i * step:.1f},{height - np.sqrt(v) / peak * (height - 2):.1f}" for i, v in enumerate(row))

    return [{"channel": ch, "colour": CHANNEL_COLOURS[ch], "query": points(query.values[c]),
             "query_area": f"0,{height} {points(query.values[c])} {width},{height}", "result": points(result.values[c])}
            for c, ch in enumerate(query.channels)]


# --- training --------------------------------------------------------------------------

LOSS_COLOURS = ("#3e63dd", "#e5484d", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#d6409f", "#6f6e77")
CHART = {"width": 640, "height": 240, "left": 48, "right": 12, "top": 10, "bottom": 24}


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


def loss_chart(curve: list[dict], total_steps: int | None) -> dict:
    """SVG geometry of the loss curves, one polyline per loss term; static/js/training.js
    draws the same chart from the same numbers as points arrive."""
    c = CHART
    names = sorted({name for point in curve for name in point["losses"]})
    values = [v for point in curve for v in point["losses"].values()]
    top = max(values) * 1.05 if values else 1.0
    bottom = min(0.0, min(values)) if values else 0.0
    span = max(top - bottom, 1e-9)
    last = max([p["step"] for p in curve] + [total_steps or 0, 1])
    plot_w, plot_h = c["width"] - c["left"] - c["right"], c["height"] - c["top"] - c["bottom"]

    def xy(step, value) -> str:
        return f"{c['left'] + step / last * plot_w:.1f},{c['top'] + (top - value) / span * plot_h:.1f}"

    lines = [{"name": name, "colour": LOSS_COLOURS[i % len(LOSS_COLOURS)],
              "points": " ".join(xy(p["step"], p["losses"][name]) for p in curve if name in p["losses"])}
             for i, name in enumerate(names)]
    return {**c, "lines": lines, "y_top": round(top, 4), "y_bottom": round(bottom, 4), "x_last": last,
            "plot_right": c["width"] - c["right"], "plot_bottom": c["height"] - c["bottom"]}
