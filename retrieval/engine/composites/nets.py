"""DCGAN (Radford et al.) sized down for CPU training, its encoder, and the baseline autoencoder.

Generator: latent z [N, nz] -> 4x4 transposed conv to 4 px, then 4x4 stride-2 transposed convs
with batch norm and ReLU doubling the size, tanh out. Discriminator: 4x4 stride-2 convs with
LeakyReLU 0.2 (batch norm after the first) down to 4 px, then a 4x4 conv to one logit. The
encoder is the discriminator's body with its last layer replaced by a 4x4 conv to nz (the
paper's). Images live in [-1, 1] inside the networks; callers pass and get [0, 1].
"""

import math

import torch
from torch import nn

LATENT = 100


def _levels(size: int) -> int:
    levels = int(math.log2(size)) - 2
    if size < 16 or 2 ** (levels + 2) != size:
        raise ValueError(f"image size must be a power of two of at least 16, not {size}")
    return levels


def init_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, size: int = 32, channels: int = 1, width: int = 64, nz: int = LATENT):
        super().__init__()
        levels = _levels(size)
        self.nz = nz
        w = width * 2 ** (levels - 1)
        layers = [nn.ConvTranspose2d(nz, w, 4, 1, 0, bias=False), nn.BatchNorm2d(w), nn.ReLU(True)]
        for _ in range(levels - 1):
            layers += [nn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w // 2), nn.ReLU(True)]
            w //= 2
        layers += [nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """[N, nz] -> images [N, C, S, S] in [0, 1]."""
        return (self.body(z.reshape(len(z), self.nz, 1, 1)) + 1) / 2


def _conv_body(size: int, channels: int, width: int) -> tuple[nn.Sequential, int]:
    levels = _levels(size)
    layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    w = width
    for _ in range(levels - 1):
        layers += [nn.Conv2d(w, w * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w * 2), nn.LeakyReLU(0.2, True)]
        w *= 2
    return nn.Sequential(*layers), w


class Discriminator(nn.Module):
    def __init__(self, size: int = 32, channels: int = 1, width: int = 64):
        super().__init__()
        self.body, w = _conv_body(size, channels, width)
        self.head = nn.Conv2d(w, 1, 4, 1, 0, bias=False)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images [N, C, S, S] in [0, 1] -> logits [N]."""
        return self.head(self.body(x * 2 - 1)).reshape(-1)


class Encoder(nn.Module):
    """The discriminator with its last layer replaced by a conv to the latent size."""

    def __init__(self, size: int = 32, channels: int = 1, width: int = 64, nz: int = LATENT):
        super().__init__()
        self.body, w = _conv_body(size, channels, width)
        self.head = nn.Conv2d(w, nz, 4, 1, 0)
        self.apply(init_weights)

    @classmethod
    def from_discriminator(cls, disc: Discriminator, size: int, channels: int, width: int, nz: int = LATENT) -> "Encoder":
        encoder = cls(size, channels, width, nz)
        encoder.body.load_state_dict(disc.body.state_dict())
        return encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images [N, C, S, S] in [0, 1] -> latents [N, nz]."""
        return self.head(self.body(x * 2 - 1)).flatten(1)


def half_state(module: nn.Module) -> dict:
    """A state dict in half precision (halves the committed file; loaded back as float32)."""
    return {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in module.state_dict().items()}


def load_state(module: nn.Module, state: dict) -> nn.Module:
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return module.eval()
