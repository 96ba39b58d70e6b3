"""The 4-region protocol for single-image texture classes (as VisTex is split in the paper).

Each texture (resized to ``TEXTURE_SIZE`` square) is split into four quadrants. One of them,
chosen per class (class index mod 4, so every quadrant position is used), is the test
region: query crops come from it alone. Training and database crops come from the other
three, and every crop box lies wholly inside them: a crop never reaches into the test
region, and no pattern is ever tiled (GIMP patterns tile seamlessly, so a tiled test region
would repeat training content and make retrieval a duplicate search).

The validation protocol (for tuning, never the test region): the training quadrant beside
the test one in the same row (test index xor 1) is held out as well; validation queries are
a grid over it, the validation database and the training crops lie wholly inside the two
quadrants left. It mirrors the test protocol one quadrant smaller, so hyperparameters can
be chosen without ever looking at a test crop.
"""

from dataclasses import dataclass

import numpy as np

from .patterns import Texture

CROP = 32  # k: the hashing networks' input and the TSN's input patch
TEST_STRIDE = 16  # test crops: a grid over the test quadrant


@dataclass(frozen=True)
class Box:
    y: int
    x: int
    h: int
    w: int

    def overlaps(self, other: "Box") -> bool:
        rows = self.y < other.y + other.h and other.y < self.y + self.h
        return rows and self.x < other.x + other.w and other.x < self.x + self.w


def quadrants(size: int) -> list[Box]:
    half = size // 2
    return [Box(0, 0, half, half), Box(0, half, half, size - half), Box(half, 0, size - half, half),
            Box(half, half, size - half, size - half)]


def test_region(class_index: int, size: int) -> Box:
    return quadrants(size)[class_index % 4]


def validation_region(class_index: int, size: int) -> Box:
    """The training quadrant held out for tuning: the test quadrant's neighbour in its row."""
    return quadrants(size)[(class_index % 4) ^ 1]


def held_out(class_index: int, size: int, validation: bool = False) -> list[Box]:
    """The regions no training or database crop may touch."""
    boxes = [test_region(class_index, size)]
    return boxes + [validation_region(class_index, size)] if validation else boxes


def training_positions(class_index: int, size: int, crop: int, validation: bool = False) -> np.ndarray:
    """Every top-left (y, x) of a crop x crop box inside the training quadrants (three; two
    with ``validation``, whose third is then held out)."""
    span = np.arange(size - crop + 1)
    ys, xs = np.meshgrid(span, span, indexing="ij")
    ys, xs = ys.ravel(), xs.ravel()
    clear = np.ones(len(ys), bool)
    for box in held_out(class_index, size, validation):
        clear &= (ys >= box.y + box.h) | (ys + crop <= box.y) | (xs >= box.x + box.w) | (xs + crop <= box.x)
    return np.stack([ys[clear], xs[clear]], 1)


def test_positions(class_index: int, size: int, crop: int, stride: int = TEST_STRIDE, region=test_region) -> np.ndarray:
    test = region(class_index, size)
    ys = np.arange(test.y, test.y + test.h - crop + 1, stride)
    xs = np.arange(test.x, test.x + test.w - crop + 1, stride)
    return np.array([(y, x) for y in ys for x in xs], dtype=np.int64).reshape(-1, 2)


def cut(image: np.ndarray, positions: np.ndarray, crop: int) -> np.ndarray:
    """uint8 [N, crop, crop, 3] crops at the given top-left corners."""
    return np.stack([image[y:y + crop, x:x + crop] for y, x in positions]) if len(positions) else \
        np.zeros((0, crop, crop, image.shape[2]), np.uint8)


@dataclass(frozen=True)
class Crops:
    images: np.ndarray  # uint8 [N, crop, crop, 3]
    labels: np.ndarray  # int64 [N]
    boxes: np.ndarray  # int64 [N, 4] (y, x, h, w) in the texture

    def __len__(self) -> int:
        return len(self.labels)


def _crops(textures: list[Texture], pick, crop: int) -> Crops:
    images, labels, boxes = [], [], []
    for c, texture in enumerate(textures):
        positions = pick(c, texture.image.shape[0])
        images.append(cut(texture.image, positions, crop))
        labels.append(np.full(len(positions), c, np.int64))
        boxes.append(np.concatenate([positions, np.full_like(positions, crop)], 1))
    return Crops(np.concatenate(images), np.concatenate(labels), np.concatenate(boxes))


def training_crops(textures: list[Texture], per_class: int, *, seed: int, crop: int = CROP,
                   validation: bool = False) -> Crops:
    """``per_class`` random crops of each texture's training region (seeded); with
    ``validation``, of the two quadrants left once the validation quadrant is held out."""
    rng = np.random.default_rng(seed)

    def pick(c, size):
        valid = training_positions(c, size, crop, validation)
        return valid[rng.choice(len(valid), size=per_class, replace=len(valid) < per_class)]
    return _crops(textures, pick, crop)


def test_crops(textures: list[Texture], crop: int = CROP) -> Crops:
    """The grid of crops over each texture's test region (the queries)."""
    return _crops(textures, lambda c, size: test_positions(c, size, crop), crop)


def validation_crops(textures: list[Texture], crop: int = CROP) -> Crops:
    """The grid of crops over each texture's validation quadrant (the tuning queries)."""
    return _crops(textures, lambda c, size: test_positions(c, size, crop, region=validation_region), crop)


DATABASE_PER_CLASS, DATABASE_SEED = 16, 7  # the retrieval database: training-region crops
TRAIN_SEED = 11


def protocol_summary(textures: list[Texture], crop: int = CROP) -> dict:
    size = textures[0].image.shape[0] if textures else 0
    return {"classes": len(textures), "texture_size": size, "regions": 4, "crop": crop,
            "database_per_class": DATABASE_PER_CLASS, "queries_per_class": len(test_positions(0, size, crop)) if size else 0}
