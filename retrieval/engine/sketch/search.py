"""How a sketch becomes a gallery descriptor, three ways, and the sketch query itself.

- ``gan``: sketch -> pix2pix image -> gallery descriptor (Jo et al.'s method);
- ``direct``: sketch -> gallery descriptor, no GAN (the paper's ablation);
- ``encoder``: sketch -> sketch encoder, trained to land in the gallery descriptor's space.

Every mode searches the gallery's one index, so switching modes costs no re-indexing.
Any drawing is first normalised the way the training edge maps were made: ink bright on
black, cropped to the drawing, squared, and its strokes thinned to one pixel.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from retrieval.engine.sketch.pix2pix import UNetGenerator

from ..descriptors.cnn import pooled_features
from ..errors import NotReady
from ..images import DecodedImage
from ..index import SearchHits, first_row
from ..nets import create_net
from .normalise import SketchView, sketch_view  # noqa: F401  (part of this module's interface)


@dataclass(frozen=True)
class SketchMode:
    name: str
    title: str
    description: str
    needs: tuple[str, ...]  # the models the mode cannot run without: "generator", "encoder"


SKETCH_MODES = {mode.name: mode for mode in (
    SketchMode("encoder", "Sketch encoder", "A network trained to put a sketch where the gallery descriptor puts "
               "the sketched item (the portal's own mode).", ("encoder",)),
    SketchMode("gan", "GAN, then descriptor", "pix2pix turns the sketch into an image, which the gallery descriptor "
               "describes (Jo et al. 2018).", ("generator",)),
    SketchMode("direct", "Descriptor only", "The gallery descriptor describes the sketch itself (the paper's "
               "ablation, no GAN).", ()),
)}


class SketchGenerator:
    """The trained pix2pix generator: ink maps [N, S, S] -> gallery-style uint8 images."""

    def __init__(self, net: UNetGenerator, checkpoint_id: str, device: torch.device):
        self.net, self.checkpoint_id, self.device = net, checkpoint_id, device

    @classmethod
    def load(cls, path: Path | str, device: torch.device | str = "cpu") -> "SketchGenerator":
        from ..fileio import file_digest

        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        net = UNetGenerator(**checkpoint["generator_kwargs"])
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in checkpoint["state_dict"].items()})
        return cls(net.to(device).eval(), file_digest(path), torch.device(device))

    @torch.inference_mode()
    def __call__(self, ink: np.ndarray, batch_size: int = 512) -> np.ndarray:
        out = []
        for start in range(0, len(ink), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(ink[start:start + batch_size], np.float32))[:, None].to(self.device)
            out.append((self.net(x)[:, 0].clamp(0, 1) * 255).round().byte().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, *ink.shape[1:]), np.uint8)


class SketchEncoder:
    """The trained sketch encoder: ink maps -> vectors in its teacher descriptor's space."""

    def __init__(self, net, mean: float, std: float, teacher_checkpoint_id: str, checkpoint_id: str, device):
        self.net, self.mean, self.std, self.device = net, mean, std, device
        self.teacher_checkpoint_id, self.checkpoint_id = teacher_checkpoint_id, checkpoint_id

    @classmethod
    def load(cls, path: Path | str, device: torch.device | str = "cpu") -> "SketchEncoder":
        from ..fileio import file_digest

        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        net = create_net(checkpoint["arch"], **checkpoint["net_kwargs"])
        net.load_state_dict(checkpoint["state_dict"])
        return cls(net.to(device).eval(), checkpoint["mean"], checkpoint["std"], checkpoint["teacher_checkpoint_id"],
                   file_digest(path), torch.device(device))

    @torch.inference_mode()
    def __call__(self, ink: np.ndarray, batch_size: int = 512) -> np.ndarray:
        out = []
        for start in range(0, len(ink), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(ink[start:start + batch_size], np.float32))[:, None].to(self.device)
            out.append(pooled_features(self.net, (x - self.mean) / self.std).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.net.embed_dim), np.float32)


@dataclass(frozen=True)
class SketchModels:
    """The sketch models a process serves with; a missing one disables its mode."""

    generator: SketchGenerator | None = None
    encoder: SketchEncoder | None = None

    def available(self, mode: str, descriptor) -> str | None:
        """None when ``mode`` can run with ``descriptor``, else why not (a sentence)."""
        needs = SKETCH_MODES[mode].needs
        if "generator" in needs and self.generator is None:
            return "The sketch GAN is not trained yet: run `python manage.py train sketch_gan`."
        if "encoder" in needs:
            if self.encoder is None:
                return "The sketch encoder is not trained yet: run `python manage.py train sketch_encoder`."
            if self.encoder.teacher_checkpoint_id != descriptor.checkpoint_id:
                return ("The sketch encoder learned another descriptor's space than the one serving this gallery: "
                        "train it again (`python manage.py train sketch_encoder`).")
        return None


def describe_sketches(mode: str, ink: np.ndarray, descriptor, models: SketchModels) -> tuple[np.ndarray, np.ndarray | None]:
    """Vectors in ``descriptor``'s space for ink maps [N, S, S], and the GAN's images (modes that use it)."""
    if mode not in SKETCH_MODES:
        raise ValueError(f"unknown sketch mode {mode!r} (choose from {', '.join(SKETCH_MODES)})")
    problem = models.available(mode, descriptor)
    if problem:
        raise NotReady(problem)
    if mode == "gan":
        images = models.generator(ink)
        return descriptor.describe_arrays(images), images
    if mode == "encoder":
        return models.encoder(ink), None
    return descriptor.describe_arrays((np.asarray(ink) * 255).round().astype(np.uint8)), None


@dataclass(frozen=True)
class SketchQueryResult:
    decoded: DecodedImage
    view: SketchView  # the sketch as the models saw it
    generated: Image.Image | None  # the GAN's image ("what the portal thinks you drew"), when it ran
    hits: SearchHits
    mode: str
    checkpoint_id: str
    timings_ms: dict[str, float]

    @property
    def explained_image(self) -> Image.Image:
        """The image whose colours explain the results: the GAN's when there is one."""
        return self.generated if self.generated is not None else self.view.image


def search_sketch(pair, models: SketchModels, decoded: DecodedImage, *, mode: str, k: int, metric: str,
                  generate: bool = True) -> SketchQueryResult:
    """One sketch query against one consistent (descriptor, index) pair. With ``generate``,
    modes other than "gan" also run the GAN (when trained) to show what the sketch looks like."""
    t0 = time.perf_counter()
    view = sketch_view(decoded.image, pair.descriptor.input_size)
    t1 = time.perf_counter()
    vectors, images = describe_sketches(mode, view.ink[None], pair.descriptor, models)
    t2 = time.perf_counter()
    hits = first_row(pair.index.search(vectors, k, metric))
    t3 = time.perf_counter()
    if images is None and generate and models.generator is not None:
        images = models.generator(view.ink[None])
    generated = Image.fromarray(images[0], "L") if images is not None else None
    ms = lambda a, b: round((b - a) * 1000, 2)  # noqa: E731
    return SketchQueryResult(decoded=decoded, view=view, generated=generated, hits=hits, mode=mode,
                             checkpoint_id=pair.checkpoint_id,
                             timings_ms={"normalise": ms(t0, t1), "describe": ms(t1, t2), "search": ms(t2, t3)})
