"""The photo augmentation and the photo descriptor's trainer (a few steps on a tiny subset)."""

import numpy as np
import pytest
import torch

from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.errors import InvalidConfig
from retrieval.engine.photo.augment import TRAIN_STYLE, compose_photo, photo_batch
from retrieval.engine.photo.backgrounds import AUGMENT_KINDS, HELD_OUT_KINDS, KINDS, TRAIN_KINDS
from retrieval.engine.photo.queries import EVAL_STYLE, QUERY_SEED, photo_queries
from retrieval.engine.photo.train import PhotoAugment, PhotoDescriptorTrainConfig
from retrieval.engine.training.registry import TrainContext, get_trainer
from tests.conftest import DATASET_MISSING, tiny_checkpoint
from tests.support.recorder import Recorder

needs_dataset = pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)")
ITEMS = np.zeros((4, 28, 28), np.uint8)
ITEMS[:, 2:26, 6:22] = 200


def test_training_and_evaluation_backgrounds_are_kept_apart():
    assert set(TRAIN_STYLE.kinds) == set(AUGMENT_KINDS) >= set(TRAIN_KINDS)
    assert not set(AUGMENT_KINDS) & set(HELD_OUT_KINDS)
    assert set(EVAL_STYLE.kinds) == set(KINDS) and EVAL_STYLE.palette and not TRAIN_STYLE.palette


def test_a_photo_is_a_coloured_item_on_a_background_with_its_true_mask():
    photo, mask = compose_photo(ITEMS[0], TRAIN_STYLE, np.random.default_rng(0), kind="stripes")
    assert photo.dtype == np.uint8 and photo.ndim == 3 and mask.shape == photo.shape[:2]
    assert 0.02 < mask.mean() < 0.9
    again, _ = compose_photo(ITEMS[0], TRAIN_STYLE, np.random.default_rng(0), kind="stripes")
    assert np.array_equal(photo, again)


def test_evaluation_queries_take_every_kind_in_turn_and_do_not_depend_on_how_many():
    first = list(photo_queries(ITEMS[:2], QUERY_SEED))
    more = list(photo_queries(ITEMS, QUERY_SEED))
    assert [kind for kind, _, _ in more] == list(KINDS[:4])
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, more, strict=False))


def test_photo_batches_are_normalised_like_queries():
    out = photo_batch(ITEMS, TRAIN_STYLE, np.random.default_rng(1))
    assert out.shape == (4, 28, 28) and out.dtype == np.uint8
    assert out[:, :, :2].mean() < out[:, 8:20, 10:18].mean()  # light item on black


def test_photo_augment_changes_only_its_share():
    x = torch.zeros(40, 1, 28, 28)
    x[:, :, 2:26, 6:22] = 0.8
    out = PhotoAugment(0.5)(x, 0.0, 1.0, torch.Generator().manual_seed(0))
    changed = (out != x).flatten(1).any(1).float().mean().item()
    assert 0.25 < changed < 0.75
    assert torch.equal(PhotoAugment(0.0)(x, 0.0, 1.0, torch.Generator().manual_seed(0)), x)


def test_photo_share_is_checked():
    with pytest.raises(InvalidConfig, match="photo share must be between 0 and 1"):
        PhotoDescriptorTrainConfig(photo_share=2)


@needs_dataset
def test_the_photo_descriptor_fine_tunes_the_serving_one_on_a_tiny_subset(tmp_path):
    from django.conf import settings

    spec = get_trainer("photo_descriptor")
    context = TrainContext(data_dir=settings.RETRIEVAL["FASHION_MNIST_DIR"], out_path=tmp_path / "photo.pt",
                           descriptor_path=tiny_checkpoint())
    recorder = Recorder()
    result = spec.run(spec.build_config({**spec.quick, "fine_tune": True}), context, recorder)
    descriptor = load_descriptor(result.checkpoint)
    start = torch.load(tiny_checkpoint(), weights_only=False)
    assert descriptor.mean == start["mean"] and descriptor.std == start["std"]
    assert descriptor.metadata["config"]["photo_share"] == 0.6 and spec.default_checkpoint_name(None) == "descriptor-photo.pt"
    assert np.isfinite(result.metrics["train_loss"])
