"""The item segmenter: its input, its network's shapes, the trainer on a tiny run (the loss
falls, the checkpoint loads back and masks photos), and the default's reload when the
training centre replaces its file."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

from retrieval.engine.photo import segment
from retrieval.engine.photo.normalise import normalise_photo
from retrieval.engine.photo.segment import INPUT_SIDE, ItemSegmenter, Segmenter, learned_foreground, network_input
from retrieval.engine.photo.train_segmenter import SegmenterTrainConfig, photo_examples, segmentation_loss, train_segmenter
from retrieval.engine.training.registry import get_trainer

from .test_normalise import ITEM


def test_the_input_is_the_square_copy_and_its_difference_from_the_border():
    rgb = np.zeros((90, 60, 3), np.float32)
    rgb[...] = (0.2, 0.4, 0.6)
    rgb[30:60, 20:40] = (0.9, 0.1, 0.1)
    x = network_input(rgb)
    assert x.shape == (6, INPUT_SIDE, INPUT_SIDE) and x.dtype == np.float32
    assert np.allclose(x[:3, 0, 0], (0.2 - 0.5, 0.4 - 0.5, 0.6 - 0.5), atol=1e-5)
    assert np.allclose(x[3:, 0, 0], 0, atol=1e-5)  # the border is the background: no difference
    assert np.allclose(x[3:, INPUT_SIDE // 2, INPUT_SIDE // 2], (0.7, -0.3, -0.5), atol=1e-5)


def test_the_network_gives_one_logit_per_pixel_of_any_batch():
    net = ItemSegmenter(width=4).eval()
    assert net(torch.zeros(3, 6, INPUT_SIDE, INPUT_SIDE)).shape == (3, INPUT_SIDE, INPUT_SIDE)


def test_probabilities_come_back_at_the_working_copy_size():
    segmenter = Segmenter(net=ItemSegmenter(width=4).eval(), checkpoint_id="untrained")
    rgb = np.random.default_rng(0).uniform(0, 1, (70, 110, 3)).astype(np.float32)
    p = segmenter.probabilities(rgb)
    assert p.shape == (70, 110) and p.min() >= 0 and p.max() <= 1
    assert np.array_equal(p, segmenter.probabilities(rgb.copy()))  # deterministic


def test_examples_are_photos_of_the_items_with_their_true_masks():
    items = np.stack([ITEM, ITEM])
    a = photo_examples(items, np.random.default_rng(5))
    b = photo_examples(items, np.random.default_rng(5))
    inputs, masks = a
    assert inputs.shape == (2, 6, INPUT_SIDE, INPUT_SIDE) and masks.shape == (2, INPUT_SIDE, INPUT_SIDE)
    assert 0.02 < masks.mean() < 0.9 and masks.min() >= 0 and masks.max() <= 1
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_a_tiny_run_lowers_its_loss_and_writes_a_checkpoint_that_masks_photos(tmp_path):
    items = np.stack([np.roll(ITEM, shift, axis=1) for shift in range(-2, 3)] * 4)
    config = SegmenterTrainConfig(epochs=3, photos=40, batch_size=20, width=4, lr=1e-2, eval_photos=8, device="cpu")
    result = train_segmenter(config, train_images=items, eval_images=items[:8], out_path=tmp_path / "seg.pt")
    history = result.history
    assert len(history) == 3 and history[-1]["train_loss"] < history[0]["train_loss"]
    assert 0 <= history[-1]["mask_iou"] <= 1
    loaded = segment.load_segmenter(tmp_path / "seg.pt")
    assert loaded.net.width == 4 and (tmp_path / "seg.json").is_file()
    photo = np.full((80, 80, 3), 0.5, np.float32)
    foreground = learned_foreground(photo, loaded)
    assert foreground.mask.shape == (80, 80) and 0 <= foreground.confidence <= 1


def test_the_loss_is_low_for_the_right_mask_and_high_for_the_wrong_one():
    target = torch.zeros(1, 8, 8)
    target[0, 2:6, 2:6] = 1
    right, wrong = segmentation_loss(target * 20 - 10, target), segmentation_loss(10 - target * 20, target)
    assert right < 0.05 < 1.0 < wrong


def test_the_trainer_is_registered_for_the_training_centre():
    spec = get_trainer("photo_segmenter")
    config = spec.build_config(spec.quick)
    assert spec.produces == "segmenter" and spec.default_checkpoint_name(config) == "photo-segmenter.pt"
    with pytest.raises(Exception, match="width"):
        spec.build_config({"width": 2})


def test_the_default_segmenter_is_loaded_again_when_its_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "photo-segmenter.pt"
    monkeypatch.setattr(segment, "CHECKPOINT", path)
    assert segment.default_segmenter() is None
    for width in (4, 5):
        torch.save({"net_kwargs": {"width": width}, "state_dict": ItemSegmenter(width).state_dict()}, path)
        os.utime(path, ns=(width * 10**9, width * 10**9))  # a new time, as a replacement has
        assert segment.default_segmenter().net.width == width


def test_a_photo_is_masked_by_the_segmenter_it_is_given():
    class Everything:  # a stand-in network: every pixel is the item
        width = 4

        def __call__(self, x):
            return torch.full(x.shape[:1] + x.shape[2:], 10.0)

    everything = Segmenter(net=Everything(), checkpoint_id="all")
    view = normalise_photo(Image.fromarray(np.full((60, 60, 3), 90, np.uint8)), segmenter=everything)
    assert not view.found  # a mask of the whole frame is no item


def test_a_run_can_go_on_from_a_checkpoint_and_a_missing_one_is_refused(tmp_path):
    from retrieval.engine.errors import NotReady

    items = np.stack([ITEM] * 8)
    tiny = dict(epochs=1, photos=8, batch_size=4, eval_photos=4, device="cpu")
    train_segmenter(SegmenterTrainConfig(width=5, **tiny), train_images=items, eval_images=items,
                    out_path=tmp_path / "first.pt")
    first = segment.load_segmenter(tmp_path / "first.pt")
    train_segmenter(SegmenterTrainConfig(init_from=str(tmp_path / "first.pt"), lr=1e-9, **tiny), train_images=items,
                    eval_images=items, out_path=tmp_path / "second.pt")
    second = segment.load_segmenter(tmp_path / "second.pt")
    assert second.net.width == 5  # the checkpoint's width, not the config's default
    # The output layer has no batch norm (whose running statistics move in any training step).
    assert torch.allclose(first.net.out.weight, second.net.out.weight, atol=1e-4)
    with pytest.raises(NotReady, match="No segmenter checkpoint"):
        train_segmenter(SegmenterTrainConfig(init_from=str(tmp_path / "missing.pt"), **tiny), train_images=items,
                        eval_images=items, out_path=tmp_path / "third.pt")


def test_bfloat16_and_float32_find_the_same_items_and_each_is_deterministic():
    from .test_normalise import iou, photos

    exact = segment.load_segmenter(segment.CHECKPOINT, torch.float32)
    fast = segment.load_segmenter(segment.CHECKPOINT, torch.bfloat16)
    assert fast.dtype == torch.bfloat16 and next(fast.net.parameters()).dtype == torch.bfloat16
    for kind in ("checker", "texture"):
        for photo, _ in photos(kind, n=3):
            rgb = photo.astype(np.float32) / 255.0
            a, b = learned_foreground(rgb, exact), learned_foreground(rgb, fast)
            assert iou(a.mask, b.mask) > 0.95 and abs(a.confidence - b.confidence) < 0.1
            assert np.array_equal(b.mask, learned_foreground(rgb.copy(), fast).mask)


def test_where_the_network_finds_nothing_the_hand_made_models_get_their_say():
    from .test_normalise import iou, photos

    class Nothing:  # a stand-in network: no pixel is the item
        width = 4

        def __call__(self, x):
            return torch.full(x.shape[:1] + x.shape[2:], -10.0)

    nothing = Segmenter(net=Nothing(), checkpoint_id="none")
    photo, truth = next(photos("solid", n=1))
    view = normalise_photo(Image.fromarray(photo), segmenter=nothing)
    assert view.found and iou(np.asarray(view.query_mask()) > 0, truth) > 0.8
    blank = normalise_photo(Image.fromarray(np.full((60, 60, 3), 90, np.uint8)), segmenter=nothing)
    assert not blank.found  # neither finds anything: still "nothing found"
