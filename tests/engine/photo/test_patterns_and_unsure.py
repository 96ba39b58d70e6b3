"""GIMP's .pat reader on hand-made files, and the unsure rule on constructed distances."""

import struct

import numpy as np
import pytest

from retrieval.engine.photo.patterns import InvalidPattern, load_patterns, read_pattern, write_pattern
from retrieval.engine.photo.unsure import calibrate, judge


def pat(width: int, height: int, depth: int, pixels: bytes, name: bytes = b"Hand made\0", magic: bytes = b"GPAT"):
    return struct.pack(">5I", 24 + len(name), 1, width, height, depth) + magic + name + pixels


def test_an_rgb_pattern_is_read_with_its_name():
    pixels = bytes(range(2 * 3 * 3))
    name, image = read_pattern(pat(3, 2, 3, pixels))
    assert name == "Hand made" and image.shape == (2, 3, 3)
    assert image[1, 2].tolist() == [15, 16, 17]


def test_grey_and_alpha_patterns_come_back_as_rgb():
    _, grey = read_pattern(pat(2, 1, 1, bytes([10, 200])))
    assert grey.tolist() == [[[10] * 3, [200] * 3]]
    _, over = read_pattern(pat(1, 1, 2, bytes([255, 0])))  # transparent white: the grey it is shown over
    assert over.tolist() == [[[128] * 3]]


@pytest.mark.parametrize("data", [b"GPAT", pat(2, 2, 3, b"\0" * 12, magic=b"GIMP"), pat(2, 2, 3, b"\0" * 5),
                                  pat(2, 2, 7, b"\0" * 28)])
def test_what_is_not_a_pattern_is_refused(data):
    with pytest.raises(InvalidPattern):
        read_pattern(data)


def test_written_patterns_read_back_and_a_folder_loads_sorted(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (40, 36, 3), dtype=np.uint8)
    assert np.array_equal(read_pattern(write_pattern("x", pixels))[1], pixels)
    (tmp_path / "b.pat").write_bytes(write_pattern("b", pixels))
    (tmp_path / "a.pat").write_bytes(write_pattern("a", pixels[:, :, 0]))
    (tmp_path / "small.pat").write_bytes(write_pattern("s", pixels[:8, :8]))
    (tmp_path / "junk.pat").write_bytes(b"not a pattern")
    assert [name for name, _ in load_patterns(tmp_path)] == ["a", "b"]


def test_the_threshold_is_the_clean_queries_99th_percentile():
    calibration = calibrate(np.linspace(0, 1, 101), "cosine")
    assert calibration.threshold == pytest.approx(0.99) and calibration.queries == 101
    with pytest.raises(ValueError):
        calibrate(np.array([]), "l2")


def test_far_queries_and_queries_without_an_item_are_unsure():
    calibration = calibrate(np.linspace(0, 1, 101), "cosine")
    near, far = judge(0.5, calibration), judge(1.5, calibration)
    assert not near.unsure and near.score == pytest.approx(0.5 / 0.99, abs=1e-3) and near.reason == ""
    assert far.unsure and far.score > 1 and "doesn't look like anything in the gallery" in far.reason
    lost = judge(0.1, calibration, found=False)
    assert lost.unsure and "No item" in lost.reason
    assert judge(0.1, calibration, confidence=0.05).unsure and not judge(0.1, calibration, confidence=0.5).unsure
    assert set(far.to_dict()) == {"unsure", "score", "reason"}
