"""Codes drawn as strips of bits (SVG): 32 bits a row, the query's row above each hit's, the
bits where the hit differs from the query in red. One path per kind of cell keeps a 256-bit
card to four SVG elements."""

import numpy as np

PER_ROW, CELL, GAP, ROW_GAP = 32, 6, 1, 5  # bits a row; px a cell, between the two codes, between rows of 32


def _cell(x: float, y: float) -> str:
    return f"M{x} {y}h{CELL - 1}v{CELL - 1}h{1 - CELL}z"


def bit_strip(query: np.ndarray, hit: np.ndarray | None = None) -> dict:
    """{"width", "height", "paths": [{"kind", "d"}], "differ"}: ``query`` alone, or ``hit``
    under it row by row. Kinds: one, zero (as the query), miss-one, miss-zero (differ)."""
    bits = len(query)
    rows = -(-bits // PER_ROW)
    pair = CELL * (2 if hit is not None else 1) + (GAP if hit is not None else 0)
    cells: dict[str, list[str]] = {"one": [], "zero": [], "miss-one": [], "miss-zero": []}
    for i in range(bits):
        x, y = (i % PER_ROW) * CELL, (i // PER_ROW) * (pair + ROW_GAP)
        cells["one" if query[i] else "zero"].append(_cell(x, y))
        if hit is not None:
            same = hit[i] == query[i]
            cells[("" if same else "miss-") + ("one" if hit[i] else "zero")].append(_cell(x, y + CELL + GAP))
    differ = 0 if hit is None else int((hit != query).sum())
    return {"width": min(bits, PER_ROW) * CELL, "height": rows * (pair + ROW_GAP) - ROW_GAP,
            "paths": [{"kind": kind, "d": "".join(d)} for kind, d in cells.items() if d], "differ": differ,
            "bits": bits}
