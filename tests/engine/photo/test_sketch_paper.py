"""The sketch normalisation reads a photo of a drawing on paper against the paper's own
lighting (the photo background model's surface), and asks for more than a dot."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from retrieval.engine.errors import BlankSketch
from retrieval.engine.sketch.normalise import sketch_view

OUTLINE = [(90, 40), (190, 40), (250, 90), (220, 120), (200, 105), (200, 260), (80, 260), (80, 105), (60, 120),
           (30, 90), (90, 40)]


def drawing(paper=None, side: int = 280) -> Image.Image:
    ink = Image.new("L", (side, side), 0)
    ImageDraw.Draw(ink).line(OUTLINE, fill=255, width=6, joint="curve")
    strokes = np.asarray(ink, dtype=np.float32) / 255.0
    background = np.ones((side, side), np.float32) if paper is None else paper
    return Image.fromarray(np.rint((background * (1 - 0.85 * strokes)) * 255).astype(np.uint8), "L")


def near(a: np.ndarray, b: np.ndarray) -> float:
    grown = torch.nn.functional.max_pool2d(torch.from_numpy(b)[None, None], 3, 1, 1)[0, 0].numpy()
    return float((grown[a > 0.5] > 0.5).mean())


def test_a_photo_of_a_drawing_on_shadowed_off_white_paper_reads_as_the_drawing():
    yy, xx = np.mgrid[0:280, 0:280] / 280.0
    paper = (0.9 - 0.45 * np.clip(xx + 0.3 * yy - 0.4, 0, 1)).astype(np.float32)  # a shadow across one side
    clean, photo = sketch_view(drawing(), 28).ink, sketch_view(drawing(paper), 28).ink
    assert near(photo, clean) > 0.9 and near(clean, photo) > 0.9


@pytest.mark.parametrize("box", [(138, 138, 146, 146), (120, 130, 140, 136)])
def test_a_dot_or_a_tiny_scribble_asks_to_draw_more(box):
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).ellipse(box, fill=0)
    with pytest.raises(BlankSketch, match="draw more"):
        sketch_view(image, 28)
