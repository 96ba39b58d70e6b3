"""The photo normalisation on synthetic photos of every background kind: the mask covers the
item, the output is light on black, centred and filling the frame, the same every time; a
gallery image and a dark item on white come out as before."""

import numpy as np
import pytest
from PIL import Image

from retrieval.engine.photo.augment import PhotoStyle, compose_photo
from retrieval.engine.photo.backgrounds import KINDS, background
from retrieval.engine.photo.normalise import HAND_MADE, normalise_photo
from retrieval.engine.photo.outline import mask_outline, outline_overlay
from retrieval.engine.photo.segment import default_segmenter

# A plain item with the gallery's look: a shirt-like block with sleeves and a darker print,
# so it has a silhouette and inner detail without needing the dataset.
ITEM = np.zeros((28, 28), np.uint8)  # placed as the gallery places items: the long side fills the frame, centred
ITEM[0:28, 7:21] = 200
ITEM[2:12, 2:26] = 190
ITEM[8:14, 11:17] = 120
STYLE = PhotoStyle(kinds=KINDS, canvas=(110, 130), aspect=(0.9, 1.1), scale=(0.5, 0.6), shade_floor=(0.3, 0.3),
                   gamma=(1.0, 1.0), reverse_share=0.0, light=(0.9, 0.9), noise=(0.0, 0.01), jpeg=(85, 90))
# Median IoU of the found mask with the true one (alpha >= 0.5). The found mask also takes in
# the item's soft edge and a pixel of smoothing all round: on an item 60 px across that alone
# costs 0.1-0.15. Above 0.5 the overlap is more than half of everything either mask holds, so
# the crop is mostly the item; that leaves room for a patch of texture the models miss.
MIN_IOU = 0.5


# Both ways of finding the item: the committed network (the default) and the hand-made
# background models (used where no network is trained).
MASKERS = pytest.mark.parametrize("masker", [None, HAND_MADE], ids=["network", "hand-made"])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def photos(kind: str, n: int = 5):
    for i in range(n):
        yield compose_photo(ITEM, STYLE, np.random.default_rng([3, i]), kind=kind)


def test_the_network_is_committed_and_serves_by_default():
    assert default_segmenter() is not None


@MASKERS
@pytest.mark.parametrize("kind", KINDS)
def test_the_mask_covers_the_item_on_every_background_kind(kind, masker):
    scores = []
    for photo, truth in photos(kind):
        view = normalise_photo(Image.fromarray(photo), segmenter=masker)
        mask = np.asarray(view.query_mask()) > 0
        assert mask.shape == truth.shape and view.query_size == (photo.shape[1], photo.shape[0])
        scores.append(iou(mask, truth))
    assert np.median(scores) >= MIN_IOU, scores


def looks_like_the_gallery(view) -> bool:
    """Light item on black, centred, its long side filling the frame, the gallery's way round."""
    out = np.asarray(view.image).astype(float)
    inside, outside = out[ITEM > 0].mean(), out[ITEM == 0].mean()
    rows, cols = np.nonzero(out > 30)
    return bool(view.found and view.image.size == (28, 28) and view.image.mode == "L"
                and outside < 40 and inside > 80 and inside > 2.5 * outside
                and max(rows.max() - rows.min(), cols.max() - cols.min()) >= 25
                and abs((rows.min() + rows.max()) / 2 - 13.5) <= 1.5
                and abs((cols.min() + cols.max()) / 2 - 13.5) <= 1.5
                and np.corrcoef(out.ravel(), ITEM.ravel())[0, 1] > 0.5)


@MASKERS
@pytest.mark.parametrize("kind", KINDS)
def test_the_item_comes_out_light_on_black_centred_and_filling_the_frame(kind, masker):
    # Colours are drawn at random, so now and then item and background nearly match (a dark
    # item on dark noise, or on a pattern of its own colour): most photos, not every one.
    passed = [looks_like_the_gallery(normalise_photo(Image.fromarray(photo), segmenter=masker))
              for photo, _ in photos(kind, 8)]
    assert sum(passed) >= 5, passed


@MASKERS
def test_the_same_photo_gives_the_same_view(masker):
    photo, _ = next(photos("texture", 1))
    a = normalise_photo(Image.fromarray(photo), segmenter=masker)
    b = normalise_photo(Image.fromarray(photo.copy()), segmenter=masker)
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image)) and np.array_equal(a.mask, b.mask)
    assert (a.bbox, a.found, a.confidence, a.inverted) == (b.bbox, b.found, b.confidence, b.inverted)


def test_a_gallery_image_is_left_as_it_is():
    view = normalise_photo(Image.fromarray(ITEM))
    assert view.gallery_style and np.array_equal(np.asarray(view.image), ITEM) and not view.inverted


@pytest.mark.parametrize("item, paper", [(40, 250), (230, 200), (60, 90)])
def test_dark_light_and_dark_on_dark_items_all_come_out_light_on_black(item, paper):
    image = np.full((200, 160), paper, np.uint8)
    image[40:170, 50:110] = item
    view = normalise_photo(Image.fromarray(image))
    out = np.asarray(view.image)
    assert view.found and out[:, :3].max() == 0 and out[10:18, 11:17].mean() > 150
    assert view.bbox[0] in range(45, 53) and view.bbox[2] in range(108, 116)  # a working pixel or two of slack


def test_a_blank_photo_finds_nothing_and_says_so():
    view = normalise_photo(Image.fromarray(np.full((90, 120, 3), 128, np.uint8)))
    assert not view.found and view.confidence == 0.0 and view.image.size == (28, 28)


def test_the_outline_is_drawn_on_the_mask_edge():
    photo, truth = next(photos("solid", 1))
    view = normalise_photo(Image.fromarray(photo))
    edge = mask_outline(view)
    assert edge.any() and not edge[truth.shape[0] // 2, :].all()
    drawn = np.asarray(outline_overlay(Image.fromarray(photo), view))
    assert drawn.shape == photo.shape and (drawn[edge] == (255, 64, 160)).all()


@pytest.mark.parametrize("kind", KINDS)
def test_every_background_kind_is_an_image_in_range_and_reproducible(kind):
    a = background(kind, 40, 50, np.random.default_rng(1))
    b = background(kind, 40, 50, np.random.default_rng(1))
    assert a.shape == (40, 50, 3) and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, b)
