"""All lab descriptors of a batch of images from ONE forward pass of an ImageNet backbone.

``gap`` is the plain code (the global-average-pooled last stage), ``conv`` the
significant-activation averages (``significance.conv_descriptor``), ``fc`` the fully
connected code (VGG16: fc6 + fc7 after ReLU; EfficientNet-Lite: pooled head + logits, see
``nets.imagenet``) and ``fc_conv`` the paper's concatenation of the two, raw.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..fileio import file_digest
from ..nets.imagenet import BACKBONES, packaged_lite_weights
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

    def prepare(self, image: Image.Image) -> np.ndarray:
        """RGB uint8 [S, S, 3]: the whole image resized to the input size, no crop (as the paper)."""
        size = self.input_size
        rgb = image.convert("RGB")
        if rgb.size != (size, size):
            rgb = rgb.resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(rgb)

    @torch.inference_mode()
    def extract(self, images: list[Image.Image], batch_size: int = 16) -> LabExtraction:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in LAB_DESCRIPTORS}
        masks = []
        for start in range(0, len(images), batch_size):
            arrays = np.stack([self.prepare(img) for img in images[start:start + batch_size]])
            x = torch.from_numpy(arrays).to(self.device).permute(0, 3, 1, 2).float()
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
