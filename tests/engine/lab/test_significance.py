"""The significant-activation Conv descriptor on hand-computed synthetic activation stacks."""

import torch

from retrieval.engine.lab.significance import conv_descriptor, patch_bounds, patch_sums, significance_map


def _stack():
    """Three stages over a 2x2 last grid: 4x4 (s = 2), 4x4 with two channels (s = 2), the 2x2 itself."""
    last = torch.tensor([[[4.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [3.0, 1.0]]])[None]  # [1, 2, 2, 2]
    a = torch.arange(16.0).reshape(1, 1, 4, 4)
    b = torch.stack([torch.ones(4, 4), 2 * torch.ones(4, 4)])[None].clone()
    b[0, 1, 2:, :2] = 0  # channel 1 is zero above the bottom-left cell
    return [a, b, last]


def test_a_cell_is_significant_when_any_channel_exceeds_half_the_global_maximum():
    # scaled by the maximum 4: channel 0 [[1, .25], [0, 0]], channel 1 [[0, 0], [.75, .25]]
    assert significance_map(_stack()[-1]).tolist() == [[[True, False], [True, False]]]


def test_conv_descriptor_sums_patches_divides_by_channels_and_averages_significant_cells():
    descriptor, mask = conv_descriptor(_stack())
    # stage a (1 channel): patches above (0,0) and (1,0) sum to 0+1+4+5 = 10 and 8+9+12+13 = 42 -> mean 26
    # stage b (2 channels): channel 0 sums 4 and 4 -> /2 -> 2; channel 1 sums 8 and 0 -> /2 -> 4, 0 -> 2
    # last stage (2 channels, s = 1): channel 0: 4, 0 -> /2 -> mean 1; channel 1: 0, 3 -> /2 -> mean 0.75
    torch.testing.assert_close(descriptor, torch.tensor([[26.0, 2.0, 2.0, 1.0, 0.75]]))
    assert mask.shape == (1, 2, 2)


def test_an_all_zero_last_stage_counts_every_cell():
    stages = [torch.ones(1, 3, 4, 4), torch.zeros(1, 2, 2, 2)]
    descriptor, mask = conv_descriptor(stages)
    assert mask.all()
    torch.testing.assert_close(descriptor, torch.tensor([[4 / 3] * 3 + [0.0, 0.0]]))


def test_images_of_a_batch_are_described_independently():
    stages = _stack()
    other = [s.flip(-1) * 2 for s in stages]
    batch = [torch.cat([s, o]) for s, o in zip(stages, other, strict=True)]
    together, _ = conv_descriptor(batch)
    torch.testing.assert_close(together[:1], conv_descriptor(stages)[0])
    torch.testing.assert_close(together[1:], conv_descriptor(other)[0])


def test_patches_of_sizes_that_do_not_divide_follow_adaptive_pooling_bins():
    assert patch_bounds(4, 2) == [(0, 2), (2, 4)]
    assert patch_bounds(5, 2) == [(0, 3), (2, 5)]  # like Lite2's 65 px stage over its 9 px grid
    stage = torch.arange(50.0).reshape(1, 2, 5, 5)
    sums = patch_sums(stage, (2, 2))
    for i, (r0, r1) in enumerate(patch_bounds(5, 2)):
        for j, (c0, c1) in enumerate(patch_bounds(5, 2)):
            torch.testing.assert_close(sums[0, :, i, j], stage[0, :, r0:r1, c0:c1].sum(dim=(1, 2)))


def test_exact_multiples_give_the_papers_s_by_s_patches():
    stage = torch.rand(2, 3, 16, 16)
    sums = patch_sums(stage, (2, 2))
    torch.testing.assert_close(sums[:, :, 1, 0], stage[:, :, 8:, :8].sum(dim=(2, 3)))
