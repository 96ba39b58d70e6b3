"""The enhancement networks, their trainers, and the robust descriptor's trainer, on tiny subsets."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from retrieval.engine.data import fashion_mnist
from retrieval.engine.degraded.enhance import load_enhancer
from retrieval.engine.degraded.nets import ENHANCER_NETS, LEAKY_SLOPE, SRCNN, DenoisingAutoencoder
from retrieval.engine.degraded.train_enhancers import EnhancerTrainConfig, RestorerTrainConfig, train_enhancer
from retrieval.engine.degraded.train_robust import DegradeAugment, RobustDescriptorTrainConfig
from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.errors import InvalidConfig, NotReady
from retrieval.engine.training.registry import TrainContext, get_trainer
from tests.conftest import DATASET_MISSING, tiny_checkpoint
from tests.support.recorder import Recorder

needs_dataset = pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)")


@pytest.fixture(scope="module")
def fmnist():
    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed")
    from django.conf import settings

    train = fashion_mnist.load_split(settings.RETRIEVAL["FASHION_MNIST_DIR"], "train", limit=2000)
    test, _ = fashion_mnist.load_split(settings.RETRIEVAL["FASHION_MNIST_DIR"], "test", limit=16)
    return train[0], train[1], test


# --- networks --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ENHANCER_NETS.names())
@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 1, 1, 1), (1, 1, 33, 45)])
def test_enhancers_keep_the_image_size_and_range(name, shape):
    net = ENHANCER_NETS.create(name).eval()
    with torch.no_grad():
        out = net(torch.rand(shape) * 2 - 1)
    assert out.shape == shape and out.min() >= -1 and out.max() <= 1


def test_the_autoencoder_has_the_papers_layout_with_a_working_leaky_relu():
    net = DenoisingAutoencoder()
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    ups = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 16), (16, 32), (32, 64), (64, 128), (128, 256)]
    assert all(c.kernel_size == (3, 3) and c.stride == (2, 2) for c in convs)
    assert [(u.in_channels, u.out_channels) for u in ups] == [(256, 128), (128, 64), (64, 32), (32, 16), (16, 1)]
    assert all(u.stride == (2, 2) and u.output_padding == (1, 1) for u in ups)
    slopes = {m.negative_slope for m in net.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {LEAKY_SLOPE} and 0 < LEAKY_SLOPE < 1  # the reference code's slope of 1 was linear
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    with torch.no_grad():  # the paper's variant: no skips, the tanh output is the image itself
        assert DenoisingAutoencoder(skips=False).eval()(torch.rand(1, 1, 28, 28)).abs().max() <= 1


def test_srcnn_is_five_convolutions_at_full_resolution():
    convs = [m for m in SRCNN().modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs] == [
        (1, 32, 5), (32, 64, 5), (64, 128, 5), (128, 32, 3), (32, 1, 3)]
    assert all(c.stride == (1, 1) for c in convs)


# --- training --------------------------------------------------------------------------

def tiny_run(config, arch, fmnist, tmp_path, **kwargs):
    images, labels, test = fmnist
    recorder = Recorder()
    result = train_enhancer(config, arch=arch, kind="test", train_images=images, train_labels=labels, eval_images=test,
                            out_path=tmp_path / f"{arch}.pt", callback=recorder, **kwargs)
    return result, recorder


@needs_dataset
@pytest.mark.parametrize(("config_cls", "arch", "steps"), [
    (EnhancerTrainConfig, "denoising_autoencoder", 40), (RestorerTrainConfig, "srcnn", 20)])
def test_enhancers_reduce_their_loss_on_a_tiny_subset(config_cls, arch, steps, fmnist, tmp_path):
    batch = 16
    config = config_cls(epochs=steps, batch_size=batch, subset=batch, vary=False, eval_images=8, device="cpu", lr=2e-3)
    result, recorder = tiny_run(config, arch, fmnist, tmp_path)
    losses = [s.losses["mse"] for s in recorder.steps]
    assert len(losses) == steps
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
    assert result.history[-1]["mse"] < result.history[0]["mse"]
    step, grid = recorder.samples[-1]
    assert grid.shape == (24, 28, 28) and grid.dtype == np.uint8  # degraded, enhanced, clean rows of 8


@needs_dataset
def test_the_checkpoint_loads_as_an_enhancer(fmnist, tmp_path):
    config = EnhancerTrainConfig(epochs=1, batch_size=16, subset=32, eval_images=8, device="cpu")
    result, _ = tiny_run(config, "denoising_autoencoder", fmnist, tmp_path)
    enhancer = load_enhancer(result.checkpoint)
    assert enhancer.kind == "test" and enhancer.handles("salt_pepper") and not enhancer.handles("jpeg")
    assert Path(result.checkpoint).with_suffix(".json").is_file()
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    out = enhancer.enhance(image)
    assert out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1
    assert enhancer.enhance(np.stack([image, image])).shape == (2, 28, 28)
    with pytest.raises(ValueError, match="not an enhancer"):
        load_enhancer(tiny_checkpoint())


@needs_dataset
def test_the_descriptor_term_is_trained_against_the_serving_descriptor(fmnist, tmp_path):
    teacher = load_descriptor(tiny_checkpoint())
    config = EnhancerTrainConfig(epochs=1, batch_size=16, subset=32, eval_images=8, device="cpu", feature_weight=0.5)
    _, recorder = tiny_run(config, "denoising_autoencoder", fmnist, tmp_path, teacher=teacher)
    assert all("feature" in s.losses and s.losses["feature"] >= 0 for s in recorder.steps)
    assert torch.load(tmp_path / "denoising_autoencoder.pt", weights_only=False)["teacher_id"] == teacher.checkpoint_id
    spec = get_trainer("denoiser")
    context = TrainContext(data_dir=tmp_path, out_path=tmp_path / "x.pt", descriptor_path=tmp_path / "absent.pt")
    with pytest.raises(NotReady, match="feature term was not found"):
        spec.run(spec.build_config({**spec.quick, "feature_weight": 1}), context, Recorder())


def test_enhancer_configs_reject_what_cannot_train():
    with pytest.raises(InvalidConfig) as info:
        EnhancerTrainConfig(degradations="gaussian,fog", batch_size=1, feature_weight=-1)
    text = " ".join(info.value.messages)
    assert "Unknown degradation 'fog'" in text and "at least 2" in text and "feature weight" in text
    assert RestorerTrainConfig().degradations == "low_resolution,motion_blur,jpeg"


# --- the robust descriptor -------------------------------------------------------------

def test_degrade_augment_degrades_only_its_share():
    x = torch.rand(200, 1, 28, 28)
    generator = torch.Generator().manual_seed(0)
    out = DegradeAugment(("gaussian",), 0.25)(x, 0.0, 1.0, generator)
    changed = (out != x).flatten(1).any(1).float().mean().item()
    assert 0.15 < changed < 0.35
    assert torch.equal(DegradeAugment(("gaussian",), 0.0)(x, 0.0, 1.0, generator), x)


@needs_dataset
def test_the_robust_descriptor_fine_tunes_the_serving_one(tmp_path):
    from django.conf import settings

    spec = get_trainer("robust_descriptor")
    context = TrainContext(data_dir=settings.RETRIEVAL["FASHION_MNIST_DIR"], out_path=tmp_path / "robust.pt",
                           descriptor_path=tiny_checkpoint())
    config = spec.build_config({**spec.quick, "fine_tune": True, "degrade_share": 1.0})
    result = spec.run(config, context, Recorder())
    descriptor = load_descriptor(result.checkpoint)
    start = torch.load(tiny_checkpoint(), weights_only=False)
    assert descriptor.mean == start["mean"] and descriptor.std == start["std"]  # fine-tuning keeps the normalisation
    assert descriptor.metadata["config"]["degrade_share"] == 1.0


def test_robust_descriptor_config_and_start_checks(tmp_path):
    with pytest.raises(InvalidConfig, match="degrade share must be between 0 and 1"):
        RobustDescriptorTrainConfig(degrade_share=1.5)
    spec = get_trainer("robust_descriptor")
    context = TrainContext(data_dir=tmp_path, out_path=tmp_path / "r.pt", descriptor_path=tmp_path / "absent.pt")
    with pytest.raises(NotReady, match="to fine-tune was not found"):
        spec.run(spec.build_config({**spec.quick, "fine_tune": True}), context, Recorder())
