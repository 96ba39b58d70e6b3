"""The serving copy of a descriptor network gives the trained network's descriptors."""

import numpy as np
import pytest
import torch

from retrieval.engine.descriptors.cnn import pooled_features
from retrieval.engine.nets import create_net
from retrieval.engine.nets.inference import InferenceFeatures


@pytest.mark.parametrize("arch", ["fmnist_cnn", "resnet34_gap"])
def test_folded_channels_last_features_equal_the_network(arch):
    torch.manual_seed(0)
    net = create_net(arch, num_classes=10)
    for module in net.modules():  # batch norm with non-trivial statistics, so folding matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    net.eval()
    served = InferenceFeatures(net)
    if arch == "fmnist_cnn":  # its conv + batch norm pairs are neighbours: all folded
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in served.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())  # the original is untouched
    x = torch.randn(3, 1, 28, 28)
    with torch.inference_mode():
        np.testing.assert_allclose(served(x).numpy(), net.features(x).numpy(), rtol=1e-4, atol=1e-4)


def test_both_views_in_one_batch_are_the_average_of_two_passes():
    torch.manual_seed(1)
    net = create_net("fmnist_cnn", num_classes=10).eval()
    x = torch.randn(4, 1, 28, 28)
    with torch.inference_mode():
        two = (net.features(x) + net.features(torch.flip(x, dims=[-1]))) / 2
        np.testing.assert_allclose(pooled_features(net, x).numpy(), two.numpy(), rtol=1e-5, atol=1e-5)


def test_the_frozen_graph_serves_any_batch_and_matches_the_eager_copy():
    torch.manual_seed(2)
    net = create_net("fmnist_cnn", num_classes=10).eval()
    scripted, eager = InferenceFeatures(net), InferenceFeatures(net, script=False)
    with torch.inference_mode():
        for batch in (1, 2, 7, 512):
            x = torch.randn(batch, 1, 28, 28)
            np.testing.assert_allclose(scripted(x).numpy(), eager(x).numpy(), rtol=1e-4, atol=1e-4)
    assert list(scripted._graphs) == [(1, 28, 28)] and scripted._graphs[(1, 28, 28)] is not None


def test_threads_describe_while_a_new_shape_is_traced():
    from concurrent.futures import ThreadPoolExecutor

    torch.manual_seed(3)
    net = create_net("fmnist_cnn", num_classes=10).eval()
    served, eager = InferenceFeatures(net), InferenceFeatures(net, script=False)
    inputs = [torch.randn(2, 1, 28 + (i % 3) * 4, 28 + (i % 3) * 4) for i in range(24)]
    with ThreadPoolExecutor(6) as pool:
        outs = list(pool.map(lambda x: _served(served, x), inputs))
    for x, out in zip(inputs, outs, strict=True):
        np.testing.assert_allclose(out, _served(eager, x), rtol=1e-4, atol=1e-4)
    assert sorted(served._graphs) == [(1, 28, 28), (1, 32, 32), (1, 36, 36)]


def _served(features, x):
    with torch.inference_mode():
        return features(x).numpy()
