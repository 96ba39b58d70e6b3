"""All lab descriptors of a batch of images from ONE forward pass of an ImageNet backbone.

``gap`` is the plain code (the global-average-pooled last stage), ``conv`` the
significant-activation averages (``significance.conv_descriptor``), ``fc`` the fully
connected code (VGG16: fc6 + fc7 after ReLU; EfficientNet-Lite: pooled head + logits, see
``nets.imagenet``) and ``fc_conv`` the paper's concatenation of the two, raw: FC's layers, then
Conv's stages (``layer_dims``); an index weighs its layers (``layers.balanced_layers``).
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..fileio import file_digest
from ..nets.imagenet import BACKBONES, VGG16Staged, packaged_lite_weights
from .significance import conv_descriptor

LAB_DESCRIPTORS = ("gap", "conv", "fc", "fc_conv")


@dataclass(frozen=True)
class LabExtraction:
    vectors: dict[str, np.ndarray]  # descriptor name -> [N, dim] float32
    masks: np.ndarray  # [N, h, w] bool: the significant cells of each image


@dataclass
class LabExtractor:
    backbone: str = "efficientnet_lite0"
    weights: str | None = "packaged"  # "packaged" (Lite), a local state_dict file, or None (random)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def __post_init__(self):
        # channels-last: the CPU kernels for depthwise and 1x1 convolutions run about a third
        # faster in that layout (Lite0, one core: ~52 -> ~34 ms of CPU time per image).
        net = BACKBONES.create(self.backbone, weights=self.weights).eval()
        self.net = net.to(self.device, memory_format=torch.channels_last)

    @property
    def input_size(self) -> int:
        return self.net.input_size

    @property
    def weights_id(self) -> str:
        """What identifies the weights in an index's provenance."""
        if not self.weights:
            return "random"
        path = packaged_lite_weights(f"efficientnet-{self.backbone.split('_')[-1]}") if self.weights == "packaged" \
            else Path(self.weights)
        return file_digest(path)

    def dims(self) -> dict[str, int]:
        conv = sum(self.net.stage_channels)
        return {"gap": self.net.embed_dim, "conv": conv, "fc": self.net.fc_dim, "fc_conv": self.net.fc_dim + conv}

    def layer_dims(self) -> tuple[int, ...]:
        """The layers of ``fc_conv``, in order: FC's (VGG16: fc6, fc7; Lite: the pooled head, the
        logits), then Conv's five stages."""
        net = self.net
        fc = (4096, 4096) if isinstance(net, VGG16Staged) else (net.embed_dim, net.fc_dim - net.embed_dim)
        return (*fc, *net.stage_channels)

    def prepare(self, image: Image.Image) -> np.ndarray:
        """RGB uint8 [S, S, 3]: the whole image resized to the input size, no crop (as the paper)."""
        size = self.input_size
        rgb = image.convert("RGB")
        if rgb.size != (size, size):
            rgb = rgb.resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(rgb)

    def extract(self, images: list[Image.Image], batch_size: int = 16) -> LabExtraction:
        return self.extract_prepared(np.stack([self.prepare(img) for img in images]) if images else None, batch_size)

    @torch.inference_mode()
    def extract_prepared(self, arrays: np.ndarray | None, batch_size: int = 16) -> LabExtraction:
        """Every lab descriptor of images already ``prepare``d ([N, S, S, 3] uint8): one pass per batch."""
        parts: dict[str, list[np.ndarray]] = {name: [] for name in LAB_DESCRIPTORS}
        masks = []
        for start in range(0, 0 if arrays is None else len(arrays), batch_size):
            x = torch.from_numpy(arrays[start:start + batch_size]).to(self.device).permute(0, 3, 1, 2).float()
            x = x.contiguous(memory_format=torch.channels_last)
            taps = self.net.taps(self.net.normalise(x))
            conv, mask = conv_descriptor(taps.stages)
            for name, value in (("gap", taps.pooled), ("conv", conv), ("fc", taps.fc),
                                ("fc_conv", torch.cat([taps.fc, conv], dim=1))):
                parts[name].append(value.float().cpu().numpy())
            masks.append(mask.cpu().numpy())
        if not masks:
            dims = self.dims()
            return LabExtraction({n: np.zeros((0, dims[n]), np.float32) for n in LAB_DESCRIPTORS}, np.zeros((0, 0, 0), bool))
        return LabExtraction({n: np.concatenate(v) for n, v in parts.items()}, np.concatenate(masks))
