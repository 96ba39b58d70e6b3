"""train_descriptor end to end on 300 synthetic 28 px images, the callback protocol, and
cancellation; plus StepClock and CallbackList on their own."""

import json

import numpy as np
import pytest
import torch

from retrieval.engine.config import DescriptorTrainConfig
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.descriptors.cnn import CNNDescriptor
from retrieval.engine.fileio import file_digest
from retrieval.engine.training.callbacks import (
    CallbackList,
    Cancelled,
    EpochInfo,
    StepInfo,
    TrainingCallback,
    TrainResult,
)
from retrieval.engine.training.descriptor import train_descriptor
from retrieval.engine.training.loop import StepClock
from tests.support.recorder import Recorder

CLASSES = tuple(f"class {c}" for c in range(10))
CONFIG = DescriptorTrainConfig(epochs=2, batch_size=64, eval_queries=50, device="cpu", seed=0, augment=False)


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Light 8x8 squares on black, placed by class on a 3x4 grid, with noise: easy to learn."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        top, left = 2 + 8 * (c // 4), 1 + 7 * (c % 4)
        images[i, top:top + 8, left:left + 6] = rng.integers(180, 256)
    return images, labels.astype(np.int64)


def train(out_path, callback, config=CONFIG):
    train_images, train_labels = synthetic(300, seed=1)
    eval_images, eval_labels = synthetic(60, seed=2)
    return train_descriptor(config, train_images=train_images, train_labels=train_labels, eval_images=eval_images,
                            eval_labels=eval_labels, classes=CLASSES, out_path=out_path, callback=callback)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    recorder = Recorder()
    result = train(folder / "descriptor.pt", recorder)
    return folder, recorder, result


def test_writes_checkpoint_and_json_record(trained):
    folder, _, result = trained
    checkpoint = folder / "descriptor.pt"
    assert sorted(p.name for p in folder.iterdir()) == ["descriptor.json", "descriptor.pt"]  # no temp files
    assert result.checkpoint == str(checkpoint)
    record = json.loads((folder / "descriptor.json").read_text())
    assert record["checkpoint"] == "descriptor.pt"
    assert record["checkpoint_id"] == file_digest(checkpoint)
    assert record["config"] == CONFIG.to_dict()
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    assert record["final"] == record["history"][-1] == result.metrics
    assert record["train_images"] == 300 and record["device"] == "cpu"
    assert set(result.metrics) == {"epoch", "train_loss", "accuracy", "P@5"}
    assert 0 <= result.metrics["accuracy"] <= 1 and 0 <= result.metrics["P@5"] <= 1


def test_checkpoint_loads_as_a_descriptor(trained):
    folder, _, _ = trained
    descriptor = load_descriptor(folder / "descriptor.pt")
    assert isinstance(descriptor, CNNDescriptor)
    assert descriptor.arch == "fmnist_cnn" and descriptor.classes == CLASSES
    assert descriptor.input_size == 28 and descriptor.checkpoint_id == file_digest(folder / "descriptor.pt")
    assert descriptor.metadata["config"] == CONFIG.to_dict()
    images, _ = synthetic(5, seed=3)
    vectors = descriptor.describe_arrays(images)
    assert vectors.shape == (5, descriptor.dim) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, descriptor.describe_arrays(images))  # eval mode: deterministic
    np.testing.assert_allclose(descriptor.describe_arrays(images, batch_size=2), vectors, rtol=1e-5, atol=1e-6)
    assert descriptor.describe_arrays(images[:0]).shape == (0, descriptor.dim)


def test_descriptor_retrieves_same_class(trained):
    folder, _, result = trained
    assert result.metrics["P@5"] >= 0.5  # chance is 0.1 on this easy synthetic task
    descriptor = load_descriptor(folder / "descriptor.pt")
    images, labels = synthetic(60, seed=4)
    vectors = descriptor.describe_arrays(images)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = labels[similarity.argmax(axis=1)]
    assert (nearest == labels).mean() >= 0.5


def test_callback_sequence(trained):
    _, recorder, result = trained
    steps_per_epoch = 5  # ceil(300 / 64)
    assert recorder.events == ["start"] + (["step"] * steps_per_epoch + ["epoch"]) * 2 + ["finish"]
    assert recorder.start == {"total_steps": 10, "config": CONFIG.to_dict(), "device": "cpu"}
    assert [e.epoch for e in recorder.epochs] == [1, 2] and all(e.epochs == 2 for e in recorder.epochs)
    assert [dict(e.metrics, epoch=e.epoch) for e in recorder.epochs] == result.history
    assert recorder.result is result and isinstance(result, TrainResult)


def test_step_infos_are_sensible(trained):
    _, recorder, _ = trained
    steps = recorder.steps
    assert [s.step for s in steps] == list(range(1, 11))
    assert [s.epoch for s in steps] == [1] * 5 + [2] * 5
    assert all(s.total_steps == 10 and s.epochs == 2 for s in steps)
    assert all(s.eta_s >= 0 and s.images_per_s > 0 for s in steps)
    assert steps[-1].eta_s == 0
    assert all(set(s.losses) == {"cross_entropy"} and np.isfinite(s.losses["cross_entropy"]) for s in steps)


def test_training_loss_falls(trained):
    _, recorder, result = trained
    losses = [s.losses["cross_entropy"] for s in recorder.steps]
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.2
    assert result.history[1]["train_loss"] < result.history[0]["train_loss"]


def test_cancel_raises_and_writes_nothing(tmp_path):
    recorder = Recorder(stop_after=2)
    with pytest.raises(Cancelled, match="step 2 of 10"):
        train(tmp_path / "cancelled.pt", recorder)
    assert recorder.events == ["start", "step", "step"]
    assert list(tmp_path.iterdir()) == []


# --- the pieces on their own -----------------------------------------------------------

def test_step_clock_counts_and_estimates():
    recorder = Recorder()
    clock = StepClock(total_steps=3, epochs=1, callback=recorder)
    infos = [clock.tick(epoch=1, batch_size=8, losses={"l": 1.0}) for _ in range(3)]
    assert [i.step for i in infos] == [1, 2, 3]
    assert infos == recorder.steps
    assert all(i.eta_s >= 0 and i.images_per_s > 0 for i in infos) and infos[-1].eta_s == 0
    assert clock.elapsed >= 0


def test_step_clock_cancels_after_reporting_the_step():
    recorder = Recorder(stop_after=1)
    clock = StepClock(total_steps=5, epochs=1, callback=recorder)
    with pytest.raises(Cancelled, match="step 1 of 5"):
        clock.tick(epoch=1, batch_size=4, losses={})
    assert len(recorder.steps) == 1


def test_callback_list_broadcasts_and_any_stop_wins():
    a, b = Recorder(), Recorder(stop_after=0)
    both = CallbackList(a, None, b)
    assert len(both.callbacks) == 2
    both.on_start(total_steps=1, config={}, device="cpu")
    both.on_step(StepInfo(1, 1, 1, 1, {}, 1.0, 0.0))
    both.on_epoch_end(EpochInfo(1, 1, {}))
    both.on_samples(step=1, images=[])
    both.on_finish(TrainResult("x", {}, 0.0, "cpu"))
    assert a.events == b.events == ["start", "step", "epoch", "finish"]
    assert both.should_stop() is True
    assert CallbackList(a).should_stop() is False
    assert TrainingCallback().should_stop() is False


def test_train_result_history_defaults_are_not_shared():
    first, second = TrainResult("a", {}, 0.0, "cpu"), TrainResult("b", {}, 0.0, "cpu")
    first.history.append({"epoch": 1})
    assert second.history == []


def test_describe_images_brings_photos_to_gallery_style(trained):
    from PIL import Image

    folder, _, _ = trained
    descriptor = load_descriptor(folder / "descriptor.pt", device="cpu")
    photo = Image.new("RGB", (50, 30), "white")  # dark-on-white, non-square, colour
    photo.paste((0, 0, 0), (10, 5, 40, 25))
    vectors = descriptor.describe_images([photo, photo.convert("L")])
    assert vectors.shape == (2, descriptor.dim)
    np.testing.assert_allclose(vectors[0], vectors[1], rtol=1e-5, atol=1e-6)
    assert descriptor.view(photo).inverted is True
    assert torch.device(descriptor.device).type == "cpu"
