"""The degradation models: their statistics, determinism, validation messages and limits."""

import io
import time

import numpy as np
import pytest
import pywt
from PIL import Image

from retrieval.engine.degraded.degradations import (
    DEGRADATIONS,
    MAX_IMAGE_PIXELS,
    InvalidDegradation,
    degrade,
    motion_blur_transfer,
    parse_names,
    random_degradations,
    resolved_params,
    training_params,
    validate_params,
)

NAMES = list(DEGRADATIONS)
GREY = np.full((64, 64), 0.5)


def texture(size: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((size, size))


# --- every degradation -----------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_output_is_float32_in_range_with_the_input_shape(name):
    for image in (texture(28), texture(28)[None].repeat(3, 0)):
        out = degrade(image, name, seed=1)
        assert out.shape == image.shape and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_the_same_seed_gives_the_same_image_and_another_seed_another(name):
    image = texture(28)
    assert np.array_equal(degrade(image, name, seed=7), degrade(image, name, seed=7))
    if name not in ("low_resolution", "jpeg"):  # deterministic models: nothing is drawn
        assert not np.array_equal(degrade(image, name, seed=7), degrade(image, name, seed=8))


@pytest.mark.parametrize("name", NAMES)
def test_a_one_pixel_image_is_degraded_without_error(name):
    out = degrade(np.array([[0.4]]), name, seed=0)
    assert out.shape == (1, 1) and 0 <= out[0, 0] <= 1


@pytest.mark.parametrize("name", NAMES)
def test_a_large_image_is_degraded_in_seconds(name):
    image = np.random.default_rng(0).random((2048, 2048)).astype(np.float32)
    started = time.perf_counter()
    assert degrade(image, name, seed=0).shape == image.shape
    assert time.perf_counter() - started < 20


def test_an_image_over_the_limit_is_refused_at_once_with_the_limit():
    too_big = np.zeros((2049, 2048), np.float32)
    assert too_big.size > MAX_IMAGE_PIXELS
    with pytest.raises(InvalidDegradation, match="too much to degrade.*4,194,304 per image"):
        degrade(too_big, "gaussian")


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 4)), np.array([[np.nan, 0.5]])])
def test_arrays_that_are_not_images_get_a_message(bad):
    with pytest.raises(InvalidDegradation):
        degrade(bad, "gaussian")


# --- statistics ------------------------------------------------------------------------

def test_gaussian_noise_has_the_paper_mean_and_spread():
    noise = degrade(GREY, "gaussian", seed=3) - 0.5  # clipping never bites at 0.5 +- 5 sigma
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.1) < 0.005
    shifted = degrade(GREY, "gaussian", {"sigma": 0.05, "mean": 0.1}, seed=3) - 0.5
    assert abs(shifted.mean() - 0.1) < 0.01 and abs(shifted.std() - 0.05) < 0.005


def test_salt_and_pepper_replaces_a_tenth_of_the_pixels_half_black_half_white():
    image = np.full((200, 200), 0.5)
    out = degrade(image, "salt_pepper", seed=1)
    black, white = (out == 0).mean(), (out == 1).mean()
    assert abs(black + white - 0.1) < 0.005 and abs(black - white) < 0.005
    assert np.all((out == 0) | (out == 1) | (out == 0.5))


def test_speckle_is_multiplicative_and_uniform():
    out = degrade(GREY, "speckle", seed=2)
    factor = out / 0.5
    assert factor.min() >= 0.9 and factor.max() <= 1.1 and abs(factor.mean() - 1) < 0.005
    assert abs(factor.std() - 0.2 / np.sqrt(12)) < 0.003  # U(-0.1, 0.1) has sd 0.2 / sqrt(12)
    assert np.all(degrade(np.zeros((8, 8)), "speckle", seed=2) == 0)  # black stays black


def test_motion_blur_leaves_a_constant_image_constant():
    for value in (0.0, 0.3, 1.0):
        out = degrade(np.full((28, 28), value), "motion_blur", {"a": 0.12, "b": -0.07}, seed=0)
        assert np.allclose(out, value, atol=1e-6)


def test_motion_blur_transfer_is_the_paper_formula():
    h = motion_blur_transfer(28, 28, 0.05, 0.03)
    assert h[14, 14] == 1  # T where u = v = 0 (the centre of the shifted spectrum)
    u, v = 3, -5
    phi = np.pi * (u * 0.05 + v * 0.03)
    assert np.isclose(h[14 + u, 14 + v], np.sin(phi) / phi * np.exp(-1j * phi))


def test_motion_blur_smooths_detail_and_draws_a_and_b_from_the_seed():
    stripes = np.tile([0.0, 1.0], (28, 14))
    blurred = degrade(stripes, "motion_blur", {"a": 0.0, "b": 0.5}, seed=0)
    assert blurred.std() < stripes.std() / 2
    drawn = resolved_params("motion_blur", {}, seed=5)
    assert drawn["a"] is not None and drawn["b"] is not None
    assert np.allclose(degrade(texture(28), "motion_blur", seed=5),
                       degrade(texture(28), "motion_blur", {"a": drawn["a"], "b": drawn["b"]}, seed=0), atol=2e-3)


def test_wavelet_2x_halves_the_detail():
    """Level 1 keeps the Haar approximation band: the finest detail band of the result holds
    at most half the energy of the original's, and the 2x2 block means survive."""
    image = texture(64)
    low = degrade(image, "low_resolution", {"level": 1})
    detail = lambda x: sum(np.sum(band ** 2) for band in pywt.dwt2(x, "haar")[1])  # noqa: E731
    assert detail(low) <= detail(image) / 2
    checker = np.indices((28, 28)).sum(0) % 2.0  # all of it is finest-scale detail
    assert np.allclose(degrade(checker, "low_resolution", {"level": 1}), 0.5)
    assert abs(low.mean() - image.mean()) < 0.01


def test_wavelet_4x_removes_more_than_2x():
    stripes = np.tile([0.0, 0.0, 1.0, 1.0], (32, 8))  # period 4: kept at 2x, averaged away at 4x
    two, four = (degrade(stripes, "low_resolution", {"level": level}) for level in (1, 2))
    assert two.std() > 0.25 and four.std() < 0.05  # bilinear resizing softens the kept stripes


def test_jpeg_matches_pillow_and_worsens_with_lower_quality():
    image = texture(32)
    buffer = io.BytesIO()
    Image.fromarray(np.rint(image * 255).astype(np.uint8), "L").save(buffer, format="JPEG", quality=20)
    expected = np.asarray(Image.open(buffer), np.float32) / 255
    assert np.allclose(degrade(image, "jpeg"), expected)
    error = lambda q: np.abs(degrade(image, "jpeg", {"quality": q}) - image).mean()  # noqa: E731
    assert error(5) > error(50) > error(95)


# --- parameters ------------------------------------------------------------------------

def test_defaults_are_the_papers():
    assert validate_params("gaussian") == {"sigma": 0.1, "mean": 0.0}
    assert validate_params("salt_pepper") == {"amount": 0.1}
    assert validate_params("speckle") == {"amount": 0.1}
    assert validate_params("motion_blur") == {"spread": 0.05, "a": None, "b": None}
    assert validate_params("low_resolution") == {"level": 1}


@pytest.mark.parametrize(("name", "params", "message"), [
    ("gaussian", {"sigma": -0.1}, "sigma must be between 0 and 1 (got -0.1)"),
    ("salt_pepper", {"amount": 1.5}, "amount must be between 0 and 1 (got 1.5)"),
    ("low_resolution", {"level": 3}, "level must be between 1 and 2 (got 3)"),
    ("low_resolution", {"level": 1.5}, "level must be a whole number between 1 and 2"),
    ("jpeg", {"quality": "high"}, "quality: 'high' is not a number; it must be between 1 and 100"),
    ("gaussian", {"sigma": "nan"}, "sigma must be between 0 and 1"),
    ("gaussian", {"radius": 2}, "Gaussian noise has no parameter 'radius' (parameters: sigma, mean)"),
    ("blur", {}, "Unknown degradation 'blur'; choose one of: gaussian, salt_pepper, speckle, motion_blur"),
])
def test_bad_parameters_name_the_valid_range(name, params, message):
    with pytest.raises(InvalidDegradation) as info:
        degrade(GREY, name, params)
    assert message in str(info.value)


def test_every_problem_is_listed_at_once_and_strings_are_numbers():
    with pytest.raises(InvalidDegradation) as info:
        validate_params("gaussian", {"sigma": 2, "mean": -1})
    assert set(info.value.fields) == {"sigma", "mean"} and len(info.value.messages) == 2
    assert validate_params("gaussian", {"sigma": "0.25"}) == {"sigma": 0.25, "mean": 0.0}
    assert validate_params("motion_blur", {"a": ""})["a"] is None


def test_seed_must_be_a_whole_number_at_least_zero():
    for seed in (-1, 1.5, "3"):
        with pytest.raises(InvalidDegradation, match="seed"):
            degrade(GREY, "gaussian", seed=seed)


# --- training helpers ------------------------------------------------------------------

def test_random_degradations_are_reproducible_and_use_the_training_ranges():
    images = np.random.default_rng(0).random((40, 28, 28)).astype(np.float32)
    first = random_degradations(images, tuple(NAMES), np.random.default_rng(9))
    again = random_degradations(images, tuple(NAMES), np.random.default_rng(9))
    assert np.array_equal(first, again) and not np.array_equal(first, images)
    rng = np.random.default_rng(1)
    sigmas = [training_params("gaussian", rng)["sigma"] for _ in range(200)]
    assert min(sigmas) >= 0.02 and max(sigmas) <= 0.3
    assert training_params("jpeg", rng, vary=False) == {"quality": 20}


def test_names_are_parsed_and_checked():
    assert parse_names("all") == tuple(NAMES)
    assert parse_names(" gaussian, jpeg,gaussian") == ("gaussian", "jpeg")
    with pytest.raises(InvalidDegradation, match="Unknown degradation 'fog'"):
        parse_names("gaussian,fog")
    with pytest.raises(InvalidDegradation, match="at least one"):
        parse_names(" , ")
