"""Loading a trained hashing network and turning crops into packed binary codes."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..fileio import file_digest
from .binary import pack
from .hashnet import create_hash_net
from .tsn import TSNGenerator, to_unit


@dataclass
class Hasher:
    net: torch.nn.Module
    variant: str
    bits: tuple[int, ...]
    checkpoint_id: str
    record: dict

    flips: bool = False  # code a crop by its outputs summed over its 8 flips and quarter-turns

    def outputs(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        if not self.flips:
            return self.net(x)
        views = [torch.rot90(v, t, (2, 3)) for v in (x, x.flip(-1)) for t in range(4)]
        summed = [self.net(v) for v in views]
        return {b: sum(o[b] for o in summed) for b in self.bits}

    @torch.inference_mode()
    def signs(self, images: np.ndarray, batch: int = 256) -> dict[int, np.ndarray]:
        """uint8 RGB [N, k, k, 3] -> {bits: float {-1, +1} [N, bits]}."""
        self.net.eval()
        parts: dict[int, list] = {b: [] for b in self.bits}
        for start in range(0, len(images), batch):
            for b, u in self.outputs(to_unit(images[start:start + batch])).items():
                parts[b].append(torch.where(u >= 0, 1.0, -1.0).numpy())
        return {b: np.concatenate(p) if p else np.zeros((0, b), np.float32) for b, p in parts.items()}

    def codes(self, images: np.ndarray) -> dict[int, np.ndarray]:
        """uint8 RGB [N, k, k, 3] -> {bits: packed uint8 [N, bits / 8]}."""
        return {b: pack(s) for b, s in self.signs(images).items()}


def load_hasher(path: Path | str) -> Hasher:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    tsn = TSNGenerator(**checkpoint["tsn_kwargs"]) if checkpoint["trunk"] == "tsn" else None
    net = create_hash_net(checkpoint["trunk"], tuple(checkpoint["bits"]), tsn=tsn, attention=checkpoint["attention"],
                          width=checkpoint["width"])
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in checkpoint["state_dict"].items()})
    record = {k: v for k, v in checkpoint.items() if k != "state_dict"}
    return Hasher(net.eval(), checkpoint["variant"], tuple(checkpoint["bits"]), file_digest(path), record,
                  flips=bool(checkpoint.get("config", {}).get("test_flips", False)))
