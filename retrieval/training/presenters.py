"""How a training run is drawn: its loss chart and its sample grid."""

from PIL import Image

from retrieval.core.presenters import png_data_url

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
