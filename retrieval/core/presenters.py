"""Turn engine results into what templates show: data URLs and chart geometry."""

import base64

import numpy as np
from PIL import Image

from retrieval.engine.explain import Histogram
from retrieval.engine.images import encode_png
from retrieval.engine.runtime import QueryResult

CHANNEL_COLOURS = {"R": "#e5484d", "G": "#30a46c", "B": "#3e63dd", "I": "#6f6e77"}
CHANNEL_NAMES = {"R": "red", "G": "green", "B": "blue", "I": "intensity"}
NICE_SHARES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
# Room around the plot for the tick labels (left: y, bottom: x), in the chart's own units.
CHART_MARGIN = {"left": 34, "right": 6, "top": 6, "bottom": 18}
PREVIEW_SIDE = 256


def png_data_url(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_png(image)).decode()


def query_preview(query: QueryResult) -> dict:
    """The uploaded image (shrunk for display, never stored) and the network's view of it."""
    shown = query.decoded.image.copy()
    shown.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return {
        "original": png_data_url(shown), "network_view": png_data_url(query.view.image),
        "inverted": query.view.inverted, "width": query.decoded.width, "height": query.decoded.height,
        "format": query.decoded.format, "frames": query.decoded.frames, "colour": query.decoded.is_colour,
        "timings": query.timings_ms, "total_ms": round(sum(query.timings_ms.values()), 2),
    }




def _share_label(share: float) -> str:
    return f"{share * 100:g}%"


def histogram_polylines(query: Histogram, result: Histogram, width: float, height: float,
                        *, left: float = 0, top: float = 0) -> list[dict]:
    """SVG polyline points for each channel of both histograms in a ``width`` x ``height``
    plot at (``left``, ``top``), on one shared square-root y scale: a dominant background
    bin would otherwise flatten every other bin to the axis."""
    peak = np.sqrt(max(float(query.values.max()), float(result.values.max()), 1e-9))
    step = width / max(query.bins - 1, 1)
    base = top + height

    def points(row) -> str:
        return " ".join(f"{left + i * step:.1f},{base - np.sqrt(v) / peak * (height - 2):.1f}" for i, v in enumerate(row))

    return [{"channel": ch, "name": CHANNEL_NAMES[ch], "colour": CHANNEL_COLOURS[ch], "query": points(query.values[c]),
             "query_area": f"{left},{base} {points(query.values[c])} {left + width},{base}", "result": points(result.values[c])}
            for c, ch in enumerate(query.channels)]


def histogram_chart(query: Histogram, result: Histogram, distance: float, *, width: int = 240, height: int = 120) -> dict:
    """Everything ``_histogram.html`` draws: both histograms per channel, the axes with a few
    ticks (bin value 0-255 on x; share of pixels on y, square-root scale), the legend."""
    m = CHART_MARGIN
    plot_w, plot_h = width - m["left"] - m["right"], height - m["top"] - m["bottom"]
    base = m["top"] + plot_h
    peak = max(float(query.values.max()), float(result.values.max()), 1e-9)
    top_tick = max([share for share in NICE_SHARES if share <= peak] or [peak])
    y_ticks = [{"y": round(base - np.sqrt(share / peak) * (plot_h - 2), 1), "label": _share_label(share) if share else "0"}
               for share in (0.0, top_tick / 4, top_tick)]
    x_ticks = [{"x": round(m["left"] + value / 255 * plot_w, 1), "label": str(value), "anchor": anchor}
               for value, anchor in ((0, "start"), (128, "middle"), (255, "end"))]
    channels = [{"name": CHANNEL_NAMES[ch], "short": ch, "colour": CHANNEL_COLOURS[ch]} for ch in query.channels]
    return {"lines": histogram_polylines(query, result, plot_w, plot_h, left=m["left"], top=m["top"]),
            "width": width, "height": height, "distance": distance, "left": m["left"], "right": width - m["right"],
            "top": m["top"], "base": base, "x_ticks": x_ticks, "y_ticks": y_ticks, "label_y": height - 4,
            "channels": channels,
            "channel_names": "intensity" if query.channels == ("I",) else ", ".join(query.channels)}


# --- training --------------------------------------------------------------------------





