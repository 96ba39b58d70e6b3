"""The GIMP .pat reader on hand-made files and the 4-region protocol."""

import struct

import numpy as np
import pytest

from retrieval.engine.texture import regions
from retrieval.engine.texture.patterns import InvalidPattern, Pattern, Texture, read_pat, to_rgb, write_pat
from retrieval.engine.texture.regions import Box, quadrants, training_crops, training_positions

# the protocol's "test_*" helpers, renamed so that pytest does not collect them
held_out_crops, held_out_positions, held_out_region = regions.test_crops, regions.test_positions, regions.test_region


def hand_made(width=3, height=2, bpp=3, name=b"tiny", version=1, magic=b"GPAT", pixels=None) -> bytes:
    pixels = bytes(range(width * height * bpp)) if pixels is None else pixels
    header = struct.pack(">IIIII4s", 24 + len(name) + 1, version, width, height, bpp, magic)
    return header + name + b"\0" + pixels


def test_reads_a_hand_made_rgb_pattern():
    pattern = read_pat(hand_made())
    assert pattern.name == "tiny"
    assert pattern.pixels.shape == (2, 3, 3)
    assert pattern.pixels[1, 2].tolist() == [15, 16, 17]  # row-major, channels last


def test_grey_and_alpha_become_rgb():
    grey = read_pat(hand_made(width=2, height=1, bpp=1, pixels=bytes([10, 200])))
    assert to_rgb(grey.pixels)[0, 1].tolist() == [200, 200, 200]
    rgba = read_pat(hand_made(width=1, height=1, bpp=4, pixels=bytes([255, 0, 0, 0])))
    assert to_rgb(rgba.pixels)[0, 0].tolist() == [128, 128, 128]  # transparent: mid grey


def test_round_trip_through_the_writer():
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    back = read_pat(write_pat(Pattern("round", pixels)))
    assert back.name == "round" and np.array_equal(back.pixels, pixels)


@pytest.mark.parametrize("data", [b"short", hand_made(magic=b"GIMP"), hand_made(version=2),
                                  hand_made()[:-1], hand_made(bpp=5, pixels=bytes(30))])
def test_bad_files_are_refused(data):
    with pytest.raises(InvalidPattern):
        read_pat(data)


def textures(n=5, size=128):
    rng = np.random.default_rng(1)
    return [Texture(f"t{i}", "test", rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for i in range(n)]


@pytest.mark.parametrize("class_index", range(4))
def test_no_training_crop_overlaps_the_held_out_region(class_index):
    size, crop = 128, 32
    test = held_out_region(class_index, size)
    for y, x in training_positions(class_index, size, crop):
        assert not Box(int(y), int(x), crop, crop).overlaps(test)
        assert 0 <= y <= size - crop and 0 <= x <= size - crop
    for y, x in held_out_positions(class_index, size, crop):
        box = Box(int(y), int(x), crop, crop)
        training = [q for q in quadrants(size) if q != test]
        assert not any(box.overlaps(q) for q in training)  # a test crop lies inside the test quadrant only


def test_crops_follow_the_protocol():
    chosen = textures()
    train, test = training_crops(chosen, 20, seed=0), held_out_crops(chosen)
    assert len(train) == 100 and len(test) == 5 * 9
    for (y, x, h, w), label in zip(train.boxes, train.labels, strict=True):
        assert not Box(y, x, h, w).overlaps(held_out_region(int(label), 128))
    for (y, x, h, w), label, image in zip(test.boxes, test.labels, test.images, strict=True):
        assert Box(y, x, h, w).overlaps(held_out_region(int(label), 128))
        assert np.array_equal(image, chosen[label].image[y:y + h, x:x + w])


@pytest.mark.parametrize("class_index", range(4))
def test_the_validation_region_is_a_training_quadrant_held_out_of_training(class_index):
    size, crop = 128, 32
    test, validation = held_out_region(class_index, size), regions.validation_region(class_index, size)
    assert validation in quadrants(size) and validation != test
    left = [q for q in quadrants(size) if q not in (test, validation)]
    positions = training_positions(class_index, size, crop, validation=True)
    assert len(positions) > 0
    for y, x in positions:
        box = Box(int(y), int(x), crop, crop)
        assert not box.overlaps(test) and not box.overlaps(validation)
        assert 0 <= y <= size - crop and 0 <= x <= size - crop
    for y, x in held_out_positions(class_index, size, crop, region=regions.validation_region):
        box = Box(int(y), int(x), crop, crop)
        assert box.overlaps(validation) and not box.overlaps(test) and not any(box.overlaps(q) for q in left)


def test_validation_crops_touch_neither_the_test_region_nor_the_validation_database():
    from retrieval.engine.texture.evaluate import split

    chosen = textures()
    database, queries = split(chosen, validation=True)
    train = training_crops(chosen, 20, seed=0, validation=True)
    assert len(queries) == 5 * 9 and len(database) == 5 * regions.DATABASE_PER_CLASS
    for (y, x, h, w), label in zip(queries.boxes, queries.labels, strict=True):
        query = Box(y, x, h, w)
        assert not query.overlaps(held_out_region(int(label), 128))
        for crops in (database, train):
            assert not any(query.overlaps(Box(*b)) for b, other in zip(crops.boxes, crops.labels, strict=True)
                           if other == label)
    for crops in (database, train):
        for (y, x, h, w), label in zip(crops.boxes, crops.labels, strict=True):
            assert not Box(y, x, h, w).overlaps(held_out_region(int(label), 128))
    test_database, test_queries = split(chosen)
    assert not np.array_equal(test_queries.boxes, queries.boxes)  # the test protocol is untouched
