"""The significant-activation Conv descriptor of Staszewski et al., as pure torch functions.

A backbone gives five stage outputs (VGG16: pool1..pool5). The last stage, divided by its
global maximum, marks the cells of its grid that matter: a cell is *significant* when any
channel there exceeds the threshold (0.5). Each cell of the last grid lies above a patch of
every earlier stage (s x s with s = 16, 8, 4, 2, 1 on VGG16 at 224 px); per channel the
patch is summed and divided by the stage's channel count, then averaged over the
significant cells. The five averages, concatenated, are the Conv descriptor.

Where a stage's size is not an exact multiple of the last grid (EfficientNet-Lite2 at
260 px: 130, 65, 33, 17, 9), a cell's patch is the bin adaptive pooling would give it, so
exact multiples get exactly the paper's s x s patches.
"""

import torch

THRESHOLD = 0.5


def significance_map(last: torch.Tensor, threshold: float = THRESHOLD) -> torch.Tensor:
    """Booleans [N, h, w]: cells of the last stage [N, C, h, w] where any channel, divided by
    the image's global maximum, exceeds ``threshold``. An image whose last stage is all zero
    has no maximum to divide by: every cell counts, so its descriptor is the plain average."""
    peak = last.flatten(1).amax(dim=1).clamp(min=0)
    scaled = last / torch.where(peak > 0, peak, torch.ones_like(peak))[:, None, None, None]
    mask = scaled.amax(dim=1) > threshold
    empty = ~mask.flatten(1).any(dim=1)
    mask[empty] = True
    return mask


def patch_bounds(size: int, cells: int) -> list[tuple[int, int]]:
    """[start, stop) of each of ``cells`` patches along an axis of ``size`` (adaptive pooling's bins)."""
    return [((i * size) // cells, -((-(i + 1) * size) // cells)) for i in range(cells)]


def patch_sums(stage: torch.Tensor, cells: tuple[int, int]) -> torch.Tensor:
    """Per channel, the sum over each cell's patch: [N, C, H, W] -> [N, C, h, w]."""
    h, w = cells
    rows, cols = patch_bounds(stage.shape[2], h), patch_bounds(stage.shape[3], w)
    if stage.shape[2] % h == 0 and stage.shape[3] % w == 0:
        # Exact multiples (VGG16, Lite0 at 224 px): one sum-pool does every patch at once.
        kh, kw = stage.shape[2] // h, stage.shape[3] // w
        return torch.nn.functional.avg_pool2d(stage, (kh, kw)) * (kh * kw)
    integral = torch.nn.functional.pad(stage.cumsum(2).cumsum(3), (1, 0, 1, 0))
    out = stage.new_empty(stage.shape[0], stage.shape[1], h, w)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            out[:, :, i, j] = integral[:, :, r1, c1] - integral[:, :, r0, c1] - integral[:, :, r1, c0] + integral[:, :, r0, c0]
    return out


def stage_averages(stage: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One stage's part of the Conv descriptor [N, C]: patch sums over the channel count,
    averaged over the significant cells of ``mask`` [N, h, w]."""
    sums = patch_sums(stage, (mask.shape[1], mask.shape[2])) / stage.shape[1]
    weights = mask.to(stage.dtype)
    return (sums * weights[:, None]).sum(dim=(2, 3)) / weights.sum(dim=(1, 2))[:, None]


def conv_descriptor(stages: list[torch.Tensor], threshold: float = THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """The Conv descriptor [N, sum of channels] of five (or any number of) stage outputs,
    finest first, and the significance map [N, h, w] of the last that chose the cells."""
    mask = significance_map(stages[-1], threshold)
    return torch.cat([stage_averages(stage, mask) for stage in stages], dim=1), mask
