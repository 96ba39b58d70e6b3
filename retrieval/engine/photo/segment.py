"""A learned item mask: a small U-Net that reads a photo's working copy, squashed to
``INPUT_SIDE`` px square, and says which pixels are the item.

The hand-made background models (``foreground``) fail where the border is a poor sample of
the rest: a spot light brighter in the middle than anywhere on the border, grain as strong as
the item's own shading, a pattern with colours the border happens to miss. The network keeps
the idea of a background model from the border: the features of the image's outer ring are
pooled into one background summary that every position is compared with, and the input
carries each pixel's colour minus the border's median colour. It learns, from gallery items
made into photos on the training background kinds only (``augment.TRAIN_STYLE``), what
"unlike the border" means; the photo evaluation's held-out kinds measure whether it carries.

Deterministic (evaluation mode, one thread's arithmetic in a fixed order) and small: one
forward pass of a 64 x 64 input costs a couple of milliseconds on one core.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .foreground import BORDER_SHARE, LUMA, Foreground, border_mask, is_item_sized, item_region

INPUT_SIDE = 64  # the network's input: the working copy squashed to this square
RING = 2  # width of the outer ring of the 16 px feature map pooled as the background summary
CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "photo-segmenter.pt"


def _block(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ItemSegmenter(nn.Module):
    """Encoder 64 -> 32 -> 16 -> 8 px, the 16 px features' border ring pooled and broadcast
    (the background summary), a dilated 8 px stage for context, a decoder with skips back to
    64 px, one logit per pixel."""

    def __init__(self, width: int = 12):
        super().__init__()
        c1, c2, c3, c4 = width, 2 * width, 3 * width, 4 * width
        self.width = width
        self.enc1 = nn.Sequential(_block(6, c1), _block(c1, c1))
        self.enc2 = nn.Sequential(_block(c1, c2), _block(c2, c2))
        self.enc3 = nn.Sequential(_block(c2, c3), _block(c3, c3))
        self.enc4 = nn.Sequential(_block(2 * c3, c4), _block(c4, c4, dilation=2))
        self.dec3 = _block(c4 + 2 * c3, c3)
        self.dec2 = _block(c3 + c2, c2)
        self.dec1 = _block(c2 + c1, c1)
        self.out = nn.Conv2d(c1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        e3 = torch.cat([e3, border_summary(e3).expand_as(e3)], 1)
        e4 = self.enc4(F.max_pool2d(e3, 2))
        d3 = self.dec3(torch.cat([F.interpolate(e4, scale_factor=2.0), e3], 1))
        d2 = self.dec2(torch.cat([F.interpolate(d3, scale_factor=2.0), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2.0), e1], 1))
        return self.out(d1)[:, 0]


def border_summary(features: torch.Tensor) -> torch.Tensor:
    """The mean feature over the outer ``RING`` pixels of a [B, C, H, W] map: [B, C, 1, 1]."""
    ring = torch.ones(features.shape[-2:], dtype=torch.bool, device=features.device)
    ring[RING:-RING, RING:-RING] = False
    return features[..., ring].mean(-1)[..., None, None]


def network_input(rgb: np.ndarray) -> np.ndarray:
    """float32 [6, S, S] of a float32 [H, W, 3] image in [0, 1]: the image squashed to S x S,
    centred on 0.5, and its difference from the border's median colour."""
    square = rgb if rgb.shape[:2] == (INPUT_SIDE, INPUT_SIDE) else np.stack(
        [np.asarray(Image.fromarray(rgb[..., c], "F").resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BOX))
         for c in range(3)], axis=-1)
    ring = np.concatenate([square[:2].reshape(-1, 3), square[-2:].reshape(-1, 3),
                           square[:, :2].reshape(-1, 3), square[:, -2:].reshape(-1, 3)])
    background = np.median(ring, axis=0)
    return np.concatenate([square - 0.5, square - background], axis=2).transpose(2, 0, 1).astype(np.float32)


def learned_foreground(rgb: np.ndarray, segmenter: "Segmenter", luma: np.ndarray | None = None) -> Foreground:
    """The item's mask in a float32 [H, W, 3] working copy by the network: pixels of probability
    above one half, then the largest coherent region with its big parts (``item_region``).
    ``luma``: the copy's luminance (``rgb @ LUMA``) where the caller has it already."""
    probability = segmenter.probabilities(rgb)
    h, w = probability.shape
    border = border_mask(h, w, max(2, round(BORDER_SHARE * min(h, w))))
    mask, share = item_region(probability > 0.5, border)
    found = is_item_sized(int(mask.sum()), h, w)
    luma = rgb @ LUMA if luma is None else luma
    return Foreground(mask=mask, score=2.0 * probability, background_luma=float(np.median(luma[border])),
                      found=found, confidence=item_confidence(probability, mask, border, share) if found else 0.0)


def item_confidence(probability: np.ndarray, mask: np.ndarray, border: np.ndarray, share: float) -> float:
    """High when the network is sure inside the item (its mean probability there), sure the
    border is background, and the item holds most of what it flagged."""
    inside = float(np.clip(2.0 * probability[mask].mean() - 1.0, 0, 1))
    clean_border = float(np.clip(1.0 - 4.0 * (probability[border] > 0.5).mean(), 0, 1))
    return round(inside * clean_border * share ** 0.5, 4)


@dataclass(frozen=True)
class Segmenter:
    """A trained ``ItemSegmenter`` in evaluation mode, its checkpoint's id and the number type
    it computes in (its weights')."""

    net: ItemSegmenter
    checkpoint_id: str
    dtype: torch.dtype = torch.float32

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """float32 [H, W] item probabilities of a float32 [H, W, 3] image in [0, 1]."""
        with torch.inference_mode():
            x = torch.from_numpy(network_input(rgb))[None].to(self.dtype).contiguous(memory_format=torch.channels_last)
            logits = self.net(x).float()
            h, w = rgb.shape[:2]
            if (h, w) != (INPUT_SIDE, INPUT_SIDE):
                logits = F.interpolate(logits[:, None], size=(h, w), mode="bilinear", align_corners=False)[:, 0]
            return torch.sigmoid(logits)[0].numpy()


def read_net(path: Path | str) -> ItemSegmenter:
    """The network stored in a segmenter checkpoint, as trained (batch norms and all)."""
    checkpoint = torch.load(Path(path), map_location="cpu", weights_only=True)
    net = ItemSegmenter(**checkpoint["net_kwargs"])
    net.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
    return net


def load_segmenter(path: Path | str, dtype: torch.dtype | None = None) -> Segmenter:
    """The checkpoint ready to serve: batch norms folded, channels-last, in ``dtype``
    (default: ``serving_dtype()``)."""
    from ..fileio import file_digest

    dtype = serving_dtype() if dtype is None else dtype
    net = fold_batch_norms(read_net(path).eval().requires_grad_(False))
    return Segmenter(net=net.to(dtype=dtype, memory_format=torch.channels_last), checkpoint_id=file_digest(path),
                     dtype=dtype)


def serving_dtype() -> torch.dtype:
    """bfloat16 where the CPU multiplies it natively (AMX or AVX512-BF16: the forward pass
    takes two thirds of float32's time, and on 900 photo-evaluation queries the masks' IoU
    with the true masks is the same to four decimals), float32 elsewhere (there bfloat16
    would be emulated, slower). ``load_segmenter(path, torch.float32)`` asks for float32."""
    cpu = getattr(torch, "cpu", None)
    native = any(getattr(cpu, name, lambda: False)() for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"))
    return torch.bfloat16 if native else torch.float32


def fold_batch_norms(net: nn.Module) -> nn.Module:
    """Each convolution's batch norm folded into its weights (evaluation mode only): the same
    function in fewer passes over the feature maps. Channels-last memory (the caller's) is
    what the CPU's convolution and pooling kernels run fastest on: together a third faster."""
    for block in net.modules():
        if isinstance(block, nn.Sequential) and len(block) == 3 and isinstance(block[1], nn.BatchNorm2d):
            conv, norm = block[0], block[1]
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding,
                               dilation=conv.dilation, bias=True)
            folded.weight.data = conv.weight.data * scale[:, None, None, None]
            folded.bias.data = norm.bias.data - norm.running_mean * scale
            block[0], block[1] = folded.requires_grad_(False), nn.Identity()
    return net


def default_segmenter() -> Segmenter | None:
    """The segmenter at ``CHECKPOINT``, loaded once and again when the file changes (``manage.py
    train photo_segmenter`` replaces it); None without one (the hand-made models decide)."""
    try:
        stat = CHECKPOINT.stat()
    except OSError:
        return None
    return _loaded(str(CHECKPOINT), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1)
def _loaded(path: str, mtime_ns: int, size: int) -> Segmenter:
    return load_segmenter(path)
