"""Turn engine results into what templates show: data URLs and chart geometry."""

import base64

import numpy as np
from PIL import Image

from retrieval.engine.explain import Histogram
from retrieval.engine.images import encode_png
from retrieval.engine.runtime import QueryResult

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





