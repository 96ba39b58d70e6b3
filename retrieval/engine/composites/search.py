"""Global nearest-neighbour source search (the paper's method and the baselines) and its measures.

``LatentModel`` is an encoder and a decoder from a composites checkpoint: ``composites_encoder``
(the GAN's discriminator and generator trained as an autoencoder: the paper's ``gan_ae``) or
``composites_ae`` (the baseline). Any vectors (latents, descriptors, raw pixels) are searched
by Euclidean distance."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .nets import Encoder, Generator, load_state


@dataclass
class LatentModel:
    encoder: Encoder
    generator: Generator
    gallery: str
    family: str
    checkpoint: str

    @classmethod
    def load(cls, path: Path | str) -> "LatentModel":
        state = torch.load(path, map_location="cpu", weights_only=False)
        shape = state["shape"]
        encoder = load_state(Encoder(shape["size"], shape["channels"], shape["width"], shape["nz"]), state["encoder"])
        generator = load_state(Generator(**shape), state["generator"])
        return cls(encoder, generator, state["gallery"], state["family"], Path(path).name)

    @torch.inference_mode()
    def encode(self, images: np.ndarray, batch: int = 256) -> np.ndarray:
        """[N, C, S, S] in [0, 1] -> latents [N, nz] float32."""
        out = [self.encoder(torch.from_numpy(np.ascontiguousarray(images[i:i + batch], np.float32))).numpy()
               for i in range(0, len(images), batch)]
        return np.concatenate(out) if out else np.zeros((0, self.encoder.head.out_channels), np.float32)

    @torch.inference_mode()
    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """G(E(x)): what the decoder makes of each image's latent."""
        latents = torch.from_numpy(self.encode(images))
        return self.generator(latents).numpy()


def nearest(gallery: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows [Q, k] of the k nearest gallery vectors by Euclidean distance, and the distances."""
    g = gallery.astype(np.float32)
    q = queries.astype(np.float32)
    d2 = (q ** 2).sum(1)[:, None] - 2 * q @ g.T + (g ** 2).sum(1)[None]
    k = min(k, len(g))
    rows = np.argpartition(d2, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(d2, rows, 1)
    order = np.argsort(part, axis=1, kind="stable")
    rows, part = np.take_along_axis(rows, order, 1), np.take_along_axis(part, order, 1)
    return rows, np.sqrt(np.maximum(part, 0))


def distances_to(gallery: np.ndarray, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """[Q, m]: the distance from each query to the gallery rows ``rows[q]`` (its true sources)."""
    return np.linalg.norm(gallery[rows].astype(np.float32) - queries[:, None].astype(np.float32), axis=2)


def median_distance(vectors: np.ndarray, sample: int = 1000, seed: int = 0) -> float:
    """The median Euclidean distance between two different gallery items (on a seeded sample):
    the scale that makes distances in different spaces comparable."""
    rng = np.random.default_rng(seed)
    picked = vectors[rng.permutation(len(vectors))[:sample]].astype(np.float32)
    d2 = (picked ** 2).sum(1)[:, None] - 2 * picked @ picked.T + (picked ** 2).sum(1)[None]
    upper = d2[np.triu_indices(len(picked), 1)]
    return float(np.median(np.sqrt(np.maximum(upper, 0))))


def hits(ranked: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """[Q]: the share of each query's true sources among its top k ([Q, >=k] and [Q, m])."""
    top = ranked[:, :k]
    return np.array([np.isin(t, r).mean() for r, t in zip(top, truth, strict=True)], np.float64)


Z95 = 1.96  # two-sided 95% under the normal approximation (a thousand queries per setting)


def mean_interval(values: np.ndarray) -> tuple[float, float]:
    """The 95% confidence interval of the mean of ``values`` (independent queries)."""
    values = np.asarray(values, np.float64)
    half = Z95 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.inf
    return float(values.mean() - half), float(values.mean() + half)


def compare(first: tuple[str, np.ndarray], second: tuple[str, np.ndarray], chance: float) -> dict:
    """Two methods, as (name, per-query hits) on the same queries: the first one's mean difference
    with its paired 95% interval, and the verdict. A difference whose interval holds 0 is a tie;
    so is any difference while neither method's interval clears ``chance`` (a random ranking's
    recall), where the two differ only in which random items they hit."""
    (_, a), (_, b) = first, second
    low, high = mean_interval(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    above = {name: mean_interval(v)[0] > chance for name, v in (first, second)}
    return {"difference": round(float(np.mean(a) - np.mean(b)), 4), "ci95": [round(low, 4), round(high, 4)],
            "above_chance": above, "verdict": _verdict(low, high, any(above.values()))}


def _verdict(low: float, high: float, beats_chance: bool) -> str:
    if not beats_chance:
        return "tie at chance"
    if low > 0:
        return "better"
    return "worse" if high < 0 else "tie"
