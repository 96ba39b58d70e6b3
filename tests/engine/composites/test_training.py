"""The composite families train a few steps and their losses fall."""

import numpy as np
import pytest
import torch

from retrieval.engine.composites.nets import Discriminator, Encoder, Generator
from retrieval.engine.composites.train_gan import _gan_step
from retrieval.engine.training.registry import get_trainer
from tests.conftest import DATASET_MISSING
from tests.support.recorder import Recorder


def _blobs(n=32, size=32):
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    centres = torch.rand(n, 2, generator=g) * 12 + 10
    d = (yy[None] - centres[:, 0, None, None]) ** 2 + (xx[None] - centres[:, 1, None, None]) ** 2
    return (d < 40).float()[:, None]


def test_shapes_and_the_encoder_made_from_the_discriminator():
    g, d = Generator(64, 3, 8), Discriminator(64, 3, 8)
    e = Encoder.from_discriminator(d, 64, 3, 8)
    assert all(torch.equal(a, b) for a, b in zip(e.body.state_dict().values(), d.body.state_dict().values(), strict=True))
    assert g(torch.randn(2, 100)).shape == (2, 3, 64, 64) and d(torch.rand(2, 3, 64, 64)).shape == (2,)
    assert e(torch.rand(2, 3, 64, 64)).shape == (2, 100)
    with pytest.raises(ValueError):
        Generator(48)


def test_the_discriminator_learns_in_a_few_gan_steps():
    torch.manual_seed(0)
    g, d = Generator(32, 1, 8), Discriminator(32, 1, 8)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    rng, real = torch.Generator().manual_seed(1), _blobs()
    losses = [_gan_step(g, d, opt_g, opt_d, real, rng, 0.9, 0.0)["D"] for _ in range(12)]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])


@pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed")
@pytest.mark.parametrize("family", ["composites_ae", "composites_encoder"])
def test_the_pixel_loss_falls(family, tmp_path):
    from retrieval.training.services import train_context

    spec = get_trainer(family)
    config = spec.build_config({**spec.quick, "subset": 64, "epochs": 4, "lr": 2e-3})
    recorder = Recorder()
    spec.run(config, train_context(spec, tmp_path / "m.pt"), recorder)
    pixel = [s.losses["pixel"] for s in recorder.steps]
    assert np.mean(pixel[-3:]) < np.mean(pixel[:3])
    if family == "composites_encoder":
        assert all("latent" in s.losses for s in recorder.steps)
    assert recorder.samples
