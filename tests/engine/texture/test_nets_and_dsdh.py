"""Channel attention shapes, the hashing networks' outputs, the DSDH B- and W-steps."""

import torch
import torch.nn.functional as F

from retrieval.engine.texture import dsdh
from retrieval.engine.texture.hashnet import ChannelAttention, create_hash_net
from retrieval.engine.texture.tsn import PatchDiscriminator, TSNGenerator, gram


def test_channel_attention_shapes_and_weights():
    attention = ChannelAttention(12)
    x = torch.randn(3, 12, 8, 8)
    weights = attention.weights(x)
    assert weights.shape == (3, 12, 1, 1) and (weights > 0).all()
    assert torch.allclose(weights.mean(dim=1), torch.ones(3, 1, 1))
    assert attention(x).shape == x.shape


def test_tsn_doubles_the_patch_and_pairs_matching_activations():
    tsn = TSNGenerator(channels=4, blocks=1).eval()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert tsn(x).shape == (2, 3, 32, 32)
    for (enc, dec), channels in zip(tsn.features(x), tsn.feature_channels, strict=True):
        assert enc.shape == dec.shape and enc.shape[1] + dec.shape[1] == channels
    assert PatchDiscriminator(4)(tsn(x)).shape[1] == 1
    assert gram(torch.randn(2, 5, 4, 4)).shape == (2, 5, 5)


def test_hash_nets_give_one_code_per_length():
    for trunk in ("tsn", "plain"):
        for attention in (True, False):
            net = create_hash_net(trunk, (16, 32), tsn=TSNGenerator(4, 1), attention=attention, width=8)
            out = net(torch.rand(3, 3, 32, 32) * 2 - 1)
            assert {b: u.shape for b, u in out.items()} == {16: (3, 16), 32: (3, 32)}
            assert all(u.abs().max() <= 1 for u in out.values())
    net = create_hash_net("tsn", (16,), tsn=TSNGenerator(4, 1), width=8)
    assert not any(p.requires_grad for p in net.tsn.parameters())


def tiny_problem(n=30, bits=12, classes=4):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, classes, (n,), generator=g)
    U = torch.tanh(torch.randn(n, bits, generator=g))
    B = torch.randint(0, 2, (n, bits), generator=g).float() * 2 - 1
    return U, B, F.one_hot(labels, classes).float()


def test_w_step_is_the_ridge_minimiser():
    U, B, Y = tiny_problem()
    W = dsdh.w_step(B, Y)
    before = dsdh.b_objective(B, U, Y, torch.zeros_like(W))
    after = dsdh.b_objective(B, U, Y, W)
    assert after < before
    for _ in range(5):  # no nearby W does better
        assert dsdh.b_objective(B, U, Y, W + 0.01 * torch.randn_like(W)) >= after


def test_b_step_lowers_the_objective_and_keeps_codes_binary():
    U, B, Y = tiny_problem()
    W = dsdh.w_step(B, Y)
    new_b = dsdh.b_step(B, U, Y, W)
    assert set(new_b.unique().tolist()) <= {-1.0, 1.0}
    assert dsdh.b_objective(new_b, U, Y, W) < dsdh.b_objective(B, U, Y, W)
    assert dsdh.b_objective(new_b, U, Y, dsdh.w_step(new_b, Y)) <= dsdh.b_objective(new_b, U, Y, W) + 1e-4


def test_likelihood_prefers_codes_that_agree_with_the_similarities():
    labels = torch.tensor([0, 0, 1, 1])
    S = dsdh.similarity(labels, labels)
    good = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, 1], [-1, -1, -1, -1], [-1, -1, -1, -1]]) * 0.9
    bad = good[[0, 2, 1, 3]]
    assert dsdh.pairwise_likelihood(good, good, S) < dsdh.pairwise_likelihood(bad, bad, S)
    assert dsdh.dpsh_loss(good, good, S) < dsdh.dpsh_loss(bad, bad, S)


def test_channel_attention_starts_as_the_identity():
    x = torch.randn(2, 6, 4, 4)
    assert torch.allclose(ChannelAttention(6)(x), x)


def test_scaled_classifier_weight_keeps_b_on_the_class_codes():
    """With the authors' mu = 1, eta's pull makes B = sign(U); with MU_SCALED the classifier
    term steers B, so codes that start as one code per class stay separable by class however U errs."""
    n, bits, classes = 40, 16, 4
    g = torch.Generator().manual_seed(1)
    labels = torch.arange(n) % classes
    codes = torch.randint(0, 2, (classes, bits), generator=g).float() * 2 - 1
    B, Y = codes[labels], F.one_hot(labels, classes).float()
    U = torch.tanh(torch.randn(n, bits, generator=g))  # network outputs unrelated to the classes
    W = dsdh.w_step(B, Y, mu=dsdh.MU_SCALED)
    new_b = dsdh.b_step(B, U, Y, W, mu=dsdh.MU_SCALED)
    assert ((new_b @ dsdh.w_step(new_b, Y, mu=dsdh.MU_SCALED)).argmax(1) == labels).all()
    assert not torch.equal(new_b, torch.where(U >= 0, 1.0, -1.0))
    W = dsdh.w_step(B, Y, mu=dsdh.MU)
    assert torch.equal(dsdh.b_step(B, U, Y, W, mu=dsdh.MU), torch.where(U >= 0, 1.0, -1.0))
