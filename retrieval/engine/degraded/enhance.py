"""Enhancers loaded from checkpoints: degraded greyscale images in [0, 1] in, restored ones out.

A checkpoint written by ``training.enhancers`` names its network, the degradations it was
trained to undo and the kind of enhancer it is ("denoiser", "restorer").
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from retrieval.engine.degraded.nets import create_enhancer_net
from retrieval.engine.fileio import file_digest

FAMILY = "enhancer"


@dataclass
class Enhancer:
    net: torch.nn.Module
    arch: str
    kind: str
    degradations: tuple[str, ...]
    checkpoint_id: str
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    metadata: dict = field(default_factory=dict)

    @classmethod
    def from_checkpoint(cls, checkpoint: dict, *, path: Path, device: torch.device) -> "Enhancer":
        if checkpoint.get("family") != FAMILY:
            raise ValueError(f"{path} is not an enhancer checkpoint (family {checkpoint.get('family')!r})")
        net = create_enhancer_net(checkpoint["arch"], **checkpoint["net_kwargs"])
        net.load_state_dict(checkpoint["state_dict"])
        net.to(device).eval()
        return cls(net=net, arch=checkpoint["arch"], kind=checkpoint["kind"],
                   degradations=tuple(checkpoint["degradations"]), checkpoint_id=file_digest(path), device=device,
                   metadata={"config": checkpoint.get("config", {}), "metrics": checkpoint.get("metrics", {})})

    def handles(self, degradation: str) -> bool:
        return degradation in self.degradations

    @torch.inference_mode()
    def enhance(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Restored float32 images in [0, 1], the shape of ``images`` ([H, W] or [N, H, W])."""
        x = np.asarray(images, dtype=np.float32)
        batch = x.reshape(-1, *x.shape[-2:])
        out = [run_net(self.net, torch.from_numpy(np.ascontiguousarray(batch[start:start + batch_size])).to(self.device))
               .cpu().numpy() for start in range(0, len(batch), batch_size)]
        return (np.concatenate(out) if out else batch.copy()).reshape(x.shape)


def run_net(net: torch.nn.Module, images01: torch.Tensor, *, clamp: bool = True) -> torch.Tensor:
    """A network that works in [-1, 1] (the paper's range) applied to images [N, H, W] in
    [0, 1]; output in [0, 1] (unclamped while training, where a clamp would stop gradients)."""
    y = (net(images01[:, None] * 2 - 1)[:, 0] + 1) / 2
    return y.clamp(0, 1) if clamp else y


def load_enhancer(path: Path | str, device: torch.device | str = "cpu") -> Enhancer:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    return Enhancer.from_checkpoint(checkpoint, path=Path(path), device=torch.device(device))
