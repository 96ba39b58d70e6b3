"""The photo evaluation's queries: Fashion-MNIST test items made into photos with a style of
their own, not the training augmentation's: a palette of shop colours instead of any colour,
bigger canvases of other shapes, other sizes and shading, lower JPEG qualities, every
background kind (the held-out ones included), and each query's own generator seeded by
(seed, its position), so a query is the same whatever ``--queries`` says.
"""

from collections.abc import Iterator

import numpy as np

from .augment import PhotoStyle, compose_photo
from .backgrounds import KINDS

QUERY_SEED = 1111  # the training augmentation draws from the trainer's seed: never this one
# Shop colours (hue, saturation, value): red, orange, yellow, green, teal, blue, navy,
# purple, pink, brown, beige, white, grey, black.
PALETTE = ((0.0, 0.85, 0.8), (0.07, 0.9, 0.95), (0.15, 0.85, 0.95), (0.33, 0.7, 0.6), (0.5, 0.7, 0.6),
           (0.6, 0.8, 0.85), (0.63, 0.7, 0.35), (0.78, 0.6, 0.6), (0.92, 0.45, 0.95), (0.08, 0.65, 0.4),
           (0.1, 0.25, 0.9), (0.0, 0.0, 0.97), (0.0, 0.0, 0.55), (0.0, 0.0, 0.12))
EVAL_STYLE = PhotoStyle(kinds=KINDS, canvas=(140, 240), aspect=(0.66, 1.5), scale=(0.3, 0.8),
                        shade_floor=(0.25, 0.7), gamma=(0.8, 1.3), reverse_share=0.15, light=(0.7, 1.0),
                        noise=(0.0, 0.03), jpeg=(25, 90), palette=PALETTE)


def photo_queries(items: np.ndarray, seed: int = QUERY_SEED,
                  style: PhotoStyle = EVAL_STYLE) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(background kind, RGB photo, true mask) of each uint8 item [N, 28, 28]; kinds in turn."""
    for i, item in enumerate(items):
        kind = style.kinds[i % len(style.kinds)]
        photo, mask = compose_photo(item, style, np.random.default_rng([seed, i]), kind=kind)
        yield kind, photo, mask
