"""Degradation models of Vu's "CNN-based image retrieval with degraded samples", plus JPEG.

Each degradation is a pure function of (images in [0, 1], parameters, random generator):
images are float arrays [..., H, W] (one greyscale image, or a batch), and every random
draw comes from the generator, so ``degrade(image, name, params, seed=s)`` is reproducible.

The paper min-max normalises a degraded image; the portal clips it to [0, 1] instead.
Min-max normalising stretches the contrast of every image whose values do not span the
whole range (a dim query becomes a bright one, which the descriptor reads as a different
item), and is undefined for a constant image, which clipping leaves constant.

``DEGRADATIONS`` lists every degradation with the specs of its parameters (default, range,
step, label): the same specs validate input (errors name the valid range) and draw the
sliders of the degraded-query page.
"""

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pywt
import torch
import torch.nn.functional as F
from PIL import Image

from retrieval.engine.errors import EngineError

# Work is bounded per call: the web layer degrades the descriptor's 28x28 view, so only
# direct callers ever come near these limits.
MAX_IMAGE_PIXELS = 2048 * 2048
MAX_TOTAL_PIXELS = 64 * 1024 * 1024


class InvalidDegradation(EngineError, ValueError):
    """Unknown degradation, bad parameters or an image that cannot be degraded. ``messages``
    lists every problem as a sentence; ``fields`` those that belong to one parameter."""

    def __init__(self, messages: list[str], fields: dict[str, list[str]] | None = None):
        super().__init__(" ".join(messages))
        self.messages, self.fields = list(messages), dict(fields or {})


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: float | None  # None: drawn from the generator unless given (motion blur's a and b)
    min: float
    max: float
    step: float
    label: str
    integer: bool = False
    train: tuple[float, float] | None = None  # the range trainers draw it from (None: keep the default)

    def range_text(self) -> str:
        fmt = (lambda v: str(int(v))) if self.integer else (lambda v: f"{v:g}")
        return f"between {fmt(self.min)} and {fmt(self.max)}"


@dataclass(frozen=True)
class Degradation:
    name: str
    title: str
    description: str
    apply: Callable[..., np.ndarray]  # (images float64 [N, H, W], rng, **params) -> same shape
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


DEGRADATIONS: dict[str, Degradation] = {}


def _register(degradation: Degradation) -> Degradation:
    DEGRADATIONS[degradation.name] = degradation
    return degradation


def get_degradation(name: str) -> Degradation:
    try:
        return DEGRADATIONS[name]
    except (KeyError, TypeError):
        raise InvalidDegradation([f"Unknown degradation {name!r}; choose one of: {', '.join(DEGRADATIONS)}."]) from None


# --- the degradations --------------------------------------------------------------------

def gaussian_noise(x: np.ndarray, rng: np.random.Generator, *, sigma: float, mean: float) -> np.ndarray:
    return x + rng.normal(mean, sigma, x.shape)


def salt_pepper_noise(x: np.ndarray, rng: np.random.Generator, *, amount: float) -> np.ndarray:
    """Each pixel is replaced with probability ``amount``, by 0 or 1 with equal chance."""
    hit = rng.random(x.shape) < amount
    salt = rng.random(x.shape) < 0.5
    return np.where(hit, salt.astype(x.dtype), x)


def speckle_noise(x: np.ndarray, rng: np.random.Generator, *, amount: float) -> np.ndarray:
    """Multiplicative: x * (1 + U(-amount, amount)), so dark pixels stay dark."""
    return x * (1 + rng.uniform(-amount, amount, x.shape))


def motion_blur_transfer(height: int, width: int, a: float, b: float, duration: float = 1.0) -> np.ndarray:
    """H(u, v) = T / (pi(ua + vb)) sin(pi(ua + vb)) e^(-j pi(ua + vb)) on the centred spectrum,
    u and v integer frequency indices (0 at the centre); H = T where ua + vb = 0."""
    u = np.arange(height) - height // 2
    v = np.arange(width) - width // 2
    phase = u[:, None] * a + v[None, :] * b
    return duration * np.sinc(phase) * np.exp(-1j * np.pi * phase)  # np.sinc(t) = sin(pi t) / (pi t), 1 at 0


def draw_blur(rng: np.random.Generator, count: int, spread: float) -> np.ndarray:
    """Per-image (a, b) pairs from N(0, spread): [count, 2]."""
    return rng.normal(0.0, spread, (count, 2))


def motion_blur(x: np.ndarray, rng: np.random.Generator, *, spread: float, a: float | None,
                b: float | None) -> np.ndarray:
    """Uniform linear motion blur in the frequency domain; a and b are drawn per image unless given."""
    drawn = draw_blur(rng, len(x), spread)
    out = np.empty_like(x)
    for i, image in enumerate(x):
        ai = drawn[i, 0] if a is None else a
        bi = drawn[i, 1] if b is None else b
        spectrum = np.fft.fftshift(np.fft.fft2(image))
        blurred = spectrum * motion_blur_transfer(*image.shape, ai, bi)
        out[i] = np.real(np.fft.ifft2(np.fft.ifftshift(blurred)))
    return out


def haar_approximation(x: np.ndarray, level: int) -> np.ndarray:
    """The Haar approximation band after ``level`` decompositions, rescaled to pixel values:
    each level halves the size (odd sizes round up) and its coefficients are twice the 2x2 means."""
    for _ in range(level):
        x = pywt.dwt2(x, "haar", mode="symmetric", axes=(-2, -1))[0] / 2.0
    return x


def low_resolution(x: np.ndarray, rng: np.random.Generator, *, level: int) -> np.ndarray:
    """Keep the approximation band (2x smaller at level 1, 4x at level 2), resize back (bilinear)."""
    small = torch.from_numpy(np.ascontiguousarray(haar_approximation(x, int(level))))[:, None]
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0].numpy()


def jpeg_compression(x: np.ndarray, rng: np.random.Generator, *, quality: int) -> np.ndarray:
    out = np.empty_like(x)
    for i, image in enumerate(x):
        buffer = io.BytesIO()
        Image.fromarray(np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8), "L").save(
            buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        out[i] = np.asarray(Image.open(buffer).convert("L"), dtype=np.float64) / 255.0
    return out


_register(Degradation(
    "gaussian", "Gaussian noise", "Adds N(mean, sigma) to every pixel.", gaussian_noise, (
        ParamSpec("sigma", 0.1, 0.0, 1.0, 0.01, "sigma (spread)", train=(0.02, 0.3)),
        ParamSpec("mean", 0.0, -0.5, 0.5, 0.01, "mean"),
    )))
_register(Degradation(
    "salt_pepper", "Salt-and-pepper noise", "Sets a share of the pixels to 0 or 1, each with probability 0.5.",
    salt_pepper_noise, (ParamSpec("amount", 0.1, 0.0, 1.0, 0.01, "share of pixels", train=(0.02, 0.25)),)))
_register(Degradation(
    "speckle", "Speckle noise", "Multiplies every pixel by 1 + U(-amount, amount).", speckle_noise,
    (ParamSpec("amount", 0.1, 0.0, 1.0, 0.01, "amount", train=(0.05, 0.4)),)))
_register(Degradation(
    "motion_blur", "Motion blur",
    "Linear motion blur in the frequency domain (T = 1); a and b are drawn from N(0, spread) with the seed unless given.",
    motion_blur, (
        ParamSpec("spread", 0.05, 0.0, 0.3, 0.01, "spread of a and b", train=(0.02, 0.1)),
        ParamSpec("a", None, -0.5, 0.5, 0.01, "a (vertical; blank: drawn)"),
        ParamSpec("b", None, -0.5, 0.5, 0.01, "b (horizontal; blank: drawn)"),
    )))
_register(Degradation(
    "low_resolution", "Low resolution", "Keeps the Haar wavelet approximation band (level 1: 2x smaller, "
    "level 2: 4x) and resizes it back.", low_resolution,
    (ParamSpec("level", 1, 1, 2, 1, "wavelet level (1 = 2x, 2 = 4x smaller)", integer=True, train=(1, 2)),)))
_register(Degradation(
    "jpeg", "JPEG compression", "Saves the image as a JPEG at the given quality and reads it back.", jpeg_compression,
    (ParamSpec("quality", 20, 1, 100, 1, "quality", integer=True, train=(5, 60)),)))


# --- validation and the public entry points ----------------------------------------------

def validate_params(name: str, values: Mapping | None = None) -> dict:
    """Every parameter of ``name``: given values (numbers or numeric strings) checked against
    their ranges, the rest at their defaults. InvalidDegradation lists every problem."""
    degradation = get_degradation(name)
    specs = {p.name: p for p in degradation.params}
    values = dict(values or {})
    fields: dict[str, list[str]] = {}
    messages = []
    for key in values:
        if key not in specs:
            known = ", ".join(specs) or "none"
            messages.append(f"{degradation.title} has no parameter {key!r} (parameters: {known}).")
    resolved = degradation.defaults()
    for key, spec in specs.items():
        if key not in values:
            continue
        try:
            resolved[key] = _coerce(spec, values[key])
        except ValueError as error:
            fields[key] = [str(error)]
            messages.append(str(error))
    if messages:
        raise InvalidDegradation(messages, fields)
    return resolved


def _coerce(spec: ParamSpec, value) -> float | int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if spec.default is None:
            return None
        raise ValueError(f"{spec.name} needs a value {spec.range_text()}.")
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{spec.name}: {value!r} is not a number; it must be {spec.range_text()}.") from None
    if not math.isfinite(number) or not spec.min <= number <= spec.max:
        raise ValueError(f"{spec.name} must be {spec.range_text()} (got {value!r}).")
    if spec.integer:
        if not number.is_integer():
            raise ValueError(f"{spec.name} must be a whole number {spec.range_text()} (got {value!r}).")
        return int(number)
    return number


def resolved_params(name: str, params: Mapping | None = None, *, seed: int = 0) -> dict:
    """The parameters one image is degraded with under ``seed``, random draws included
    (motion blur's a and b), for showing next to the result."""
    values = validate_params(name, params)
    if name == "motion_blur":
        drawn = draw_blur(np.random.default_rng(seed), 1, values["spread"])[0]
        values = {**values, "a": values["a"] if values["a"] is not None else round(float(drawn[0]), 4),
                  "b": values["b"] if values["b"] is not None else round(float(drawn[1]), 4)}
    return values


def degrade(images: np.ndarray, name: str, params: Mapping | None = None, *, seed: int = 0) -> np.ndarray:
    """``images`` (one [H, W] image or a batch [..., H, W], values in [0, 1]) degraded by
    ``name``: float32 in [0, 1], the same shape. The same seed gives the same result."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InvalidDegradation([f"The seed must be a whole number of at least 0 (got {seed!r})."])
    return apply_degradation(images, name, validate_params(name, params), np.random.default_rng(seed))


def apply_degradation(images: np.ndarray, name: str, params: Mapping, rng: np.random.Generator) -> np.ndarray:
    """``degrade`` with already validated, complete parameters and the caller's generator."""
    x = _checked_images(images)
    batch = x.reshape(-1, *x.shape[-2:])
    out = get_degradation(name).apply(batch, rng, **params)
    return np.clip(out, 0.0, 1.0).astype(np.float32).reshape(x.shape)


def _checked_images(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] < 1 or x.shape[-2] < 1:
        raise InvalidDegradation([f"Expected greyscale images [..., height, width]; got an array of shape {x.shape}."])
    if x.shape[-1] * x.shape[-2] > MAX_IMAGE_PIXELS or x.size > MAX_TOTAL_PIXELS:
        raise InvalidDegradation([f"{x.shape[-2]}x{x.shape[-1]} pixels ({x.size:,} in all) is too much to degrade in one "
                                  f"call (at most {MAX_IMAGE_PIXELS:,} per image, {MAX_TOTAL_PIXELS:,} in all)."])
    if not np.isfinite(x).all():
        raise InvalidDegradation(["The image holds values that are not finite numbers."])
    return x


# --- random degradations for training -------------------------------------------------------

def training_params(name: str, rng: np.random.Generator, *, vary: bool = True) -> dict:
    """One parameter set for a training batch: each parameter drawn from its training range
    when ``vary``, so a model meets mild and strong versions, else the paper's defaults."""
    values = get_degradation(name).defaults()
    if not vary:
        return values
    for spec in get_degradation(name).params:
        if spec.train is not None:
            low, high = spec.train
            values[spec.name] = int(rng.integers(low, high + 1)) if spec.integer else float(rng.uniform(low, high))
    return values


def random_degradations(images: np.ndarray, names: tuple[str, ...], rng: np.random.Generator, *,
                        vary: bool = True) -> np.ndarray:
    """Each image of a batch [N, H, W] degraded by one of ``names`` chosen at random; one
    parameter set per degradation per call."""
    out = np.asarray(images, dtype=np.float32).copy()
    choice = rng.integers(0, len(names), len(out))
    for i, name in enumerate(names):
        chosen = np.flatnonzero(choice == i)
        if len(chosen):
            out[chosen] = apply_degradation(out[chosen], name, training_params(name, rng, vary=vary), rng)
    return out


def parse_names(text: str) -> tuple[str, ...]:
    """Comma-separated degradation names ("all" for every one); InvalidDegradation if unknown."""
    if text.strip() == "all":
        return tuple(DEGRADATIONS)
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise InvalidDegradation([f"Name at least one degradation: {', '.join(DEGRADATIONS)}, or all."])
    for name in names:
        get_degradation(name)
    return names
