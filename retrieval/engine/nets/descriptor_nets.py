"""Classification networks whose pooled features serve as retrieval descriptors.

Every descriptor network maps a batch [N, C, S, S] to logits and exposes
``features(x)``: the global-average-pooled embedding used for retrieval.
"""

import torch
from torch import nn

from ..tv_compat import torchvision
from . import NETS


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


@NETS.register("fmnist_cnn")
class CompactCNN(nn.Module):
    """Three stages of two 3x3 conv+BN+ReLU (28 -> 14 -> 7 px), global average pool.

    Sized for 28 px greyscale galleries: about 30 M multiply-adds per image, several
    times cheaper than ResNet-34 on a CPU.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32, input_size: int = 28):
        super().__init__()
        w = width
        self.input_size, self.in_channels, self.embed_dim = input_size, in_channels, 4 * w
        self.body = nn.Sequential(
            _conv_bn(in_channels, w), _conv_bn(w, w), nn.MaxPool2d(2),
            _conv_bn(w, 2 * w), _conv_bn(2 * w, 2 * w), nn.MaxPool2d(2),
            _conv_bn(2 * w, 4 * w), _conv_bn(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(4 * w, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@NETS.register("resnet34_gap")
class ResNet34GAP(nn.Module):
    """The paper-faithful descriptor (Vu; Jo et al.): a 1x1 conv maps grey to three channels,
    ResNet-34 follows, the 512-d global-average-pool output is the descriptor, and the
    classifier head is 512 -> 1024 -> ReLU -> 1024 -> ReLU -> classes.

    ``imagenet_weights`` optionally names a local torchvision ResNet-34 state_dict file;
    none ships in any package here, so by default it trains from scratch.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28, imagenet_weights: str | None = None):
        super().__init__()
        self.input_size, self.in_channels, self.embed_dim = input_size, in_channels, 512
        self.to_rgb = nn.Conv2d(in_channels, 3, kernel_size=1)
        backbone = torchvision.models.resnet34(weights=None)
        if imagenet_weights:
            backbone.load_state_dict(torch.load(imagenet_weights, map_location="cpu", weights_only=True))
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.head = nn.Sequential(
            nn.Linear(512, 1024), nn.ReLU(inplace=True), nn.Linear(1024, 1024), nn.ReLU(inplace=True),
            nn.Linear(1024, num_classes),
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.to_rgb(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
