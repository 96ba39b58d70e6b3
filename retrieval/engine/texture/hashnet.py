"""Stage 2: the hashing networks. ``TSNHashNet`` reads the frozen TSN's encoder and decoder
activations of matching size, concatenated per scale; channel-wise attention rescales each
scale's channels (global average pool -> 1x1 conv -> softmax weights, times the channel
count so they average 1); 1x1 convs bring every scale to one width; strided convs combine
them progressively, finest to coarsest, into one vector; one hash layer per code length
gives K tanh outputs (sign -> K bits).

``PlainHashNet`` is the DSDH baseline: a plain small CNN on the pixels, no TSN, the same
hash layers. Both return ``{bits: [N, bits] in (-1, 1)}``.

One trunk carries the hash layers of every code length (32, 64, 128, 256), each with its own
objective, trained together: a CPU cost saving over four separate networks (the paper trains
one per length).
"""

import torch
from torch import nn

from .tsn import TSNGenerator


class ChannelAttention(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.score = nn.Conv2d(channels, channels, 1)
        # start as the identity (every weight 1): a random start rescales the frozen features
        # arbitrarily per image before the hash layers have learned anything
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> [N, C, 1, 1] positive weights with mean 1 over the channels."""
        return torch.softmax(self.score(x.mean(dim=(2, 3), keepdim=True)), dim=1) * x.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weights(x)


def _block(cin, cout, stride=1, k=3):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2), nn.BatchNorm2d(cout), nn.ReLU(True))


class HashHeads(nn.Module):
    def __init__(self, dim: int, bits: tuple[int, ...]):
        super().__init__()
        self.bits = tuple(bits)
        self.heads = nn.ModuleDict({str(b): nn.Linear(dim, b) for b in self.bits})

    def forward(self, vector: torch.Tensor) -> dict[int, torch.Tensor]:
        return {b: torch.tanh(self.heads[str(b)](vector)) for b in self.bits}


class TSNHashNet(nn.Module):
    def __init__(self, tsn: TSNGenerator, bits=(32, 64, 128, 256), *, width: int = 64, attention: bool = True):
        super().__init__()
        self.tsn = tsn.eval().requires_grad_(False)
        self.attention = attention
        channels = tsn.feature_channels
        self.attend = nn.ModuleList([ChannelAttention(c) if attention else nn.Identity() for c in channels])
        self.reduce = nn.ModuleList([_block(c, width, k=1) for c in channels])
        # progressive combination: finest -> next scale (stride 2), concatenated with that scale, ...
        self.down = nn.ModuleList([_block(width if i == 0 else 2 * width, width, stride=2) for i in range(len(channels) - 1)])
        self.last = _block(2 * width, 2 * width, stride=2)
        self.hash = HashHeads(2 * width, bits)

    def train(self, mode: bool = True):
        super().train(mode)
        self.tsn.eval()  # frozen, batch norm included
        return self

    def scales(self, x: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            pairs = self.tsn.features(x)
        return [torch.cat(pair, 1) for pair in pairs]

    def vector(self, x: torch.Tensor) -> torch.Tensor:
        reduced = [r(a(s)) for s, a, r in zip(self.scales(x), self.attend, self.reduce, strict=True)]
        h = reduced[0]
        for down, nxt in zip(self.down, reduced[1:], strict=True):
            h = torch.cat([down(h), nxt], 1)
        return self.last(h).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """[N, 3, k, k] in [-1, 1] -> {bits: codes in (-1, 1)}."""
        return self.hash(self.vector(x))


class PlainHashNet(nn.Module):
    """The DSDH baseline's CNN: four conv stages (32 -> 64 -> 128 -> 128 channels, three of
    them stride 2), global average pooling, the hash layers."""

    def __init__(self, bits=(32, 64, 128, 256), *, width: int = 64):
        super().__init__()
        self.trunk = nn.Sequential(_block(3, width // 2, k=5), _block(width // 2, width, stride=2),
                                   _block(width, 2 * width, stride=2), _block(2 * width, 2 * width, stride=2))
        self.hash = HashHeads(2 * width, bits)

    def vector(self, x):
        return self.trunk(x).mean(dim=(2, 3))

    def forward(self, x):
        return self.hash(self.vector(x))


def create_hash_net(trunk: str, bits, *, tsn: TSNGenerator | None = None, attention: bool = True, width: int = 64):
    if trunk == "tsn":
        if tsn is None:
            raise ValueError("the TSN trunk needs a trained TSN generator")
        return TSNHashNet(tsn, bits, width=width, attention=attention)
    if trunk == "plain":
        return PlainHashNet(bits, width=width)
    raise ValueError(f"unknown trunk {trunk!r} (tsn or plain)")
