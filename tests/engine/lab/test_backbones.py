"""Every ImageNet backbone gives five stages and every lab descriptor from one forward pass."""

import numpy as np
import pytest
import torch
from PIL import Image

from retrieval.engine.lab.extract import LAB_DESCRIPTORS, LabExtractor
from retrieval.engine.nets.imagenet import BACKBONES

EXPECTED_DIMS = {  # gap, conv (the five stages' channels), fc, fc + conv
    "efficientnet_lite0": {"gap": 1280, "conv": 16 + 24 + 40 + 112 + 1280, "fc": 1280 + 1000},
    "efficientnet_lite2": {"gap": 1280, "conv": 16 + 24 + 48 + 120 + 1280, "fc": 1280 + 1000},
    "vgg16": {"gap": 512, "conv": 1472, "fc": 8192},  # the paper's 1,472 and fc6 + fc7
}


@pytest.fixture(scope="module", params=BACKBONES.names())
def extractor(request):
    torch.manual_seed(0)
    return LabExtractor(backbone=request.param, weights=None)  # random weights: shapes only


def _images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40 + 9 * i, 50, 3), dtype=np.uint8)) for i in range(2)]


def test_every_backbone_is_expected():
    assert set(BACKBONES.names()) == set(EXPECTED_DIMS)


def test_descriptor_dimensions(extractor):
    expected = EXPECTED_DIMS[extractor.backbone]
    expected = {**expected, "fc_conv": expected["fc"] + expected["conv"]}
    assert extractor.dims() == expected
    extraction = extractor.extract(_images())
    assert {name: v.shape for name, v in extraction.vectors.items()} == {n: (2, expected[n]) for n in LAB_DESCRIPTORS}
    assert all(np.isfinite(v).all() for v in extraction.vectors.values())
    grid = {"efficientnet_lite2": 9}.get(extractor.backbone, 7)
    assert extraction.masks.shape == (2, grid, grid) and extraction.masks.any(axis=(1, 2)).all()
    np.testing.assert_allclose(extraction.vectors["fc_conv"],
                               np.concatenate([extraction.vectors["fc"], extraction.vectors["conv"]], axis=1))


def test_all_descriptors_come_from_one_forward_pass(extractor):
    calls = []
    handle = extractor.net.net.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        extractor.extract(_images())
    finally:
        handle.remove()
    assert len(calls) == 1


def test_five_stages_halve_the_grid(extractor):
    size = extractor.input_size
    with torch.inference_mode():
        taps = extractor.net.taps(extractor.net.normalise(torch.rand(1, 3, size, size) * 255))
    sides = [stage.shape[-1] for stage in taps.stages]
    assert len(sides) == 5 and all(a > b for a, b in zip(sides, sides[1:], strict=False))
    assert tuple(stage.shape[1] for stage in taps.stages) == extractor.net.stage_channels


def test_lite_weights_load_from_the_package_file():
    extractor = LabExtractor(backbone="efficientnet_lite0")
    assert extractor.weights_id != "random"
    # a red and a blue image: ImageNet features tell them apart
    red, blue = (Image.new("RGB", (64, 64), c) for c in ((220, 20, 20), (20, 20, 220)))
    vectors = extractor.extract([red, blue]).vectors["conv"]
    assert not np.allclose(vectors[0], vectors[1])


def test_folding_batchnorms_keeps_what_the_network_computes():
    from efficientnet_lite_pytorch import EfficientNet

    from retrieval.engine.nets.imagenet import fold_batchnorms

    torch.manual_seed(0)
    net = EfficientNet.from_name("efficientnet-lite0").eval()
    for module in net.modules():  # non-trivial statistics, as trained weights have
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        before = net(x)
    fold_batchnorms(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    with torch.inference_mode():
        torch.testing.assert_close(net(x), before, rtol=1e-3, atol=1e-3)
