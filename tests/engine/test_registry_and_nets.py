"""The name registry, and every registered network's shapes."""

import pytest
import torch

from retrieval.engine.descriptors import DESCRIPTORS
from retrieval.engine.nets import NETS, create_net
from retrieval.engine.registry import Registry


def test_register_create_and_names():
    things = Registry("thing")

    @things.register("b")
    def make_b(x=1):
        return ("b", x)

    things.register("a")(dict)
    assert things.names() == ["a", "b"]
    assert "a" in things and "c" not in things
    assert things.create("b", x=5) == ("b", 5)
    assert things.get("b") is make_b


def test_duplicate_name_is_rejected_and_first_entry_kept():
    things = Registry("thing")
    things.register("x")(int)
    with pytest.raises(ValueError, match="thing 'x' is registered twice"):
        things.register("x")(float)
    assert things.get("x") is int


def test_unknown_name_lists_known_names():
    things = Registry("widget")
    things.register("zeta")(int)
    things.register("alpha")(int)
    with pytest.raises(KeyError) as info:
        things.create("gamma")
    message = info.value.args[0]
    assert "unknown widget 'gamma'" in message and "known: alpha, zeta" in message


def test_unknown_name_in_empty_registry_says_none():
    with pytest.raises(KeyError, match=r"known: none"):
        Registry("widget").get("x")


def test_engine_registries_hold_the_documented_entries():
    assert {"fmnist_cnn", "resnet34_gap"} <= set(NETS.names())
    assert "cnn" in DESCRIPTORS
    with pytest.raises(KeyError, match="fmnist_cnn"):
        create_net("no_such_net")


@pytest.mark.parametrize("name", NETS.names())
def test_every_net_gives_logits_and_features(name):
    torch.manual_seed(0)
    net = create_net(name, num_classes=10, in_channels=1, input_size=28).eval()
    assert net.input_size == 28 and net.in_channels == 1
    x = torch.randn(3, 1, 28, 28)
    with torch.inference_mode():
        logits, features = net(x), net.features(x)
    assert logits.shape == (3, 10)
    assert features.shape == (3, net.embed_dim)
    assert torch.isfinite(logits).all() and torch.isfinite(features).all()
    # features are per-image: a batch of one gives the same first row
    with torch.inference_mode():
        torch.testing.assert_close(net.features(x[:1]), features[:1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NETS.names())
def test_every_net_honours_num_classes_and_trains_in_train_mode(name):
    net = create_net(name, num_classes=4, in_channels=1, input_size=28).train()
    out = net(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 4)
    out.sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_compact_cnn_width_sets_embedding_size():
    net = create_net("fmnist_cnn", num_classes=10, width=8).eval()
    assert net.embed_dim == 32
    with torch.inference_mode():
        assert net.features(torch.zeros(1, 1, 28, 28)).shape == (1, 32)
