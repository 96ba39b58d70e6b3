"""Inference copies of descriptor networks: what serves a query, not what trains.

A query is one 28 px image, so a descriptor's time is mostly per-layer overhead, not
arithmetic. Two rewrites cut it without changing a result (beyond float rounding, about
1e-7): batch norm folded into the convolution before it (one layer instead of two), and
channels-last memory, which oneDNN's small-image convolutions run faster on this CPU
(`bench/search_latency.py` reports the describe stage against its ideal time).

The folding walks the module tree; it does not trace (torch.fx patches ``Module.__call__``
for the whole process while it traces, which breaks searches running in other threads).
"""

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


class InferenceFeatures(nn.Module):
    """``net.features`` for inference: batch norm folded, channels-last; never trained."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = fold_batch_norm(copy.deepcopy(net).eval())
        self.net.to(memory_format=torch.channels_last)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x.contiguous(memory_format=torch.channels_last)).contiguous()


def fold_batch_norm(module: nn.Module) -> nn.Module:
    """In every ``nn.Sequential`` below ``module`` (an eval-mode copy: changed in place), a
    convolution directly followed by batch norm becomes one convolution and an identity.
    Pairs that are not neighbours in a Sequential (a ResNet block's) are left as they are."""
    for child in module.children():
        fold_batch_norm(child)
    if isinstance(module, nn.Sequential):
        layers = list(module)
        for i in range(len(layers) - 1):
            conv, norm = layers[i], layers[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats:
                module[i], module[i + 1] = fuse_conv_bn_eval(conv, norm), nn.Identity()
    return module
