"""pix2pix (Isola et al. 2017) sized for 28 px galleries: a U-Net generator and a PatchGAN
discriminator. Inputs are padded to 32 px (five halvings reach 1 px) and outputs cropped back.

The generator maps a sketch (ink in [0, 1]) to an image in [0, 1]; internally both live in
[-1, 1] as in pix2pix. Channel widths stop growing at ``max_mult * ngf`` to keep the
checkpoint small (about 1 M parameters at the defaults).
"""

import torch
import torch.nn.functional as F
from torch import nn

PADDED = 32


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int, dropout: bool) -> nn.Sequential:
    layers = [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout)]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _pad(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    size = x.shape[-1]
    if size > PADDED:
        raise ValueError(f"pix2pix here takes images of at most {PADDED} px, not {size}")
    before = (PADDED - size) // 2
    return F.pad(x, (before, PADDED - size - before, before, PADDED - size - before)), before


class UNetGenerator(nn.Module):
    """Encoder 32 -> 1 px with skip connections to a mirrored decoder (dropout in the
    innermost up-steps, as pix2pix uses instead of a noise input)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, ngf: int = 32, max_mult: int = 4, image_size: int = 28):
        super().__init__()
        self.image_size = image_size
        widths = [ngf * min(2 ** i, max_mult) for i in range(5)]  # 32, 16, 8, 4, 2 -> 1 px
        self.downs = nn.ModuleList([_down(in_channels, widths[0], norm=False)] +
                                   [_down(widths[i - 1], widths[i], norm=i < 4) for i in range(1, 5)])
        self.ups = nn.ModuleList()
        for i in range(4, 0, -1):  # 1 -> 2 -> 4 -> 8 -> 16 px
            cin = widths[i] if i == 4 else widths[i] * 2
            self.ups.append(_up(cin, widths[i - 1], dropout=i >= 3))
        self.out = nn.Sequential(nn.ConvTranspose2d(widths[0] * 2, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, sketch: torch.Tensor) -> torch.Tensor:
        x, before = _pad(sketch * 2 - 1)
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        for up, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = torch.cat([up(x), skip], 1)
        image = self.out(x)[..., before:before + sketch.shape[-2], before:before + sketch.shape[-1]]
        return (image + 1) / 2


class PatchDiscriminator(nn.Module):
    """Scores overlapping patches of a (sketch, image) pair as real or fake: logits [N, 1, P, P].
    Two strided layers give patches of 16 px of the 32 px input, about the share of the image
    that pix2pix's 70 px patches cover at 256 px."""

    def __init__(self, in_channels: int = 2, ndf: int = 64, n_layers: int = 2):
        super().__init__()
        layers = [_down(in_channels, ndf, norm=False)]
        width = ndf
        for i in range(1, n_layers):
            layers.append(_down(width, ndf * min(2 ** i, 8)))
            width = ndf * min(2 ** i, 8)
        layers += [nn.Conv2d(width, width * 2, 4, 1, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(width * 2, 1, 4, 1, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, sketch: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        x, _ = _pad(torch.cat([sketch, image], 1) * 2 - 1)
        return self.body(x)
