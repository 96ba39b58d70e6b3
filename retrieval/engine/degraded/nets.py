"""Enhancement networks of Vu's degraded-retrieval paper: image in, image out, values in [-1, 1].

Registered in their own ``ENHANCER_NETS`` (not ``NETS``, whose names are the descriptor
architectures a training form offers).
"""

import torch
import torch.nn.functional as F
from torch import nn

from retrieval.engine.registry import Registry

ENHANCER_NETS = Registry("enhancer network")
LEAKY_SLOPE = 0.2  # the reference code passed True (= 1.0), which made every "LeakyReLU" linear


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.LeakyReLU(LEAKY_SLOPE, inplace=True))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.LeakyReLU(LEAKY_SLOPE, inplace=True))


@ENHANCER_NETS.register("denoising_autoencoder")
class DenoisingAutoencoder(nn.Module):
    """Five stride-2 3x3 convolutions (1 -> 16 -> 32 -> 64 -> 128 -> 256), five stride-2
    transposed convolutions back, batch norm, tanh output.

    ``skips`` adds each encoder stage's output to the decoder stage of the same size
    (symmetric skips, as RED-Net): without them every detail must pass the 1x1 bottleneck,
    and the paper's network returns blurred items (measured on Fashion-MNIST noise: 20.7 dB,
    and speckled queries retrieved worse after "enhancing" than before). With ``residual``
    the tanh output is the estimated noise, subtracted from the input (as DnCNN).

    Each stage halves the size, so inputs are padded (by reflection) to a multiple of 32
    and the output is cropped back: 28 px images run at 32 px.
    """

    MULTIPLE = 32

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 128, 256), in_channels: int = 1,
                 skips: bool = True, residual: bool = False):
        super().__init__()
        self.skips, self.residual = skips, residual
        widths = (in_channels, *channels)
        self.down = nn.ModuleList(_down(widths[i], widths[i + 1]) for i in range(len(channels)))
        self.up = nn.ModuleList(_up(widths[i + 1], widths[i]) for i in range(len(channels) - 1, 0, -1))
        self.last = nn.ConvTranspose2d(widths[1], in_channels, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.MULTIPLE, -w % self.MULTIPLE
        top, left = pad_h // 2, pad_w // 2
        if pad_h or pad_w:
            # Reflection needs the pad to be smaller than the side; tiny images fall back to replication.
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            x = F.pad(x, (left, pad_w - left, top, pad_h - top), mode=mode)
        stages = []
        y = x
        for layer in self.down:
            y = layer(y)
            stages.append(y)
        for layer, skip in zip(self.up, reversed(stages[:-1]), strict=True):
            y = layer(y)
            if self.skips:
                y = y + skip
        y = torch.tanh(self.last(y))
        if self.residual:
            y = x - y
            y = y if self.training else y.clamp(-1, 1)
        return y[..., top:top + h, left:left + w]


@ENHANCER_NETS.register("srcnn")
class SRCNN(nn.Module):
    """Five convolutions at full resolution: 5x5 (1 -> 32 -> 64 -> 128), then 3x3
    (128 -> 32 -> 1), ReLU between them.

    With ``residual`` the network predicts the correction added to its input, which trains
    in a fraction of the steps a direct tanh output needs: most of a degraded image is
    already right. The sum is clamped to [-1, 1] only in eval mode (a clamp while training
    would stop the gradient of every pixel it cuts).
    """

    def __init__(self, in_channels: int = 1, residual: bool = True):
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(64, 128, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(128, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, in_channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if not self.residual:
            return torch.tanh(y)
        return x + y if self.training else (x + y).clamp(-1, 1)


def create_enhancer_net(name: str, **kwargs) -> nn.Module:
    return ENHANCER_NETS.create(name, **kwargs)
