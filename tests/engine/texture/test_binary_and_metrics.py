"""Bit packing, FAISS Hamming search against a numpy reference, the index file, mAP."""

import numpy as np
import pytest

from retrieval.engine.errors import IndexMismatch
from retrieval.engine.texture.binary import BinaryIndex, hamming, pack, unpack
from retrieval.engine.texture.metrics import average_precision, hamming_map, precision_within

rng = np.random.default_rng(0)


def signs(n, bits):
    return rng.choice([-1.0, 1.0], size=(n, bits))


def test_pack_matches_numpy_bits():
    s = signs(10, 64)
    packed = pack(s)
    assert packed.shape == (10, 8) and packed.dtype == np.uint8
    assert np.array_equal(unpack(packed, 64), (s > 0).astype(np.uint8))
    assert packed[0, 0] == int("".join("1" if v > 0 else "0" for v in s[0, :8]), 2)
    with pytest.raises(ValueError):
        pack(signs(2, 12))


@pytest.mark.parametrize("bits", [32, 64, 128, 256])
def test_hamming_search_matches_numpy(bits):
    db, q = signs(300, bits), signs(5, bits)
    reference = (db[None] != q[:, None]).sum(2)
    assert np.array_equal(hamming(pack(q), pack(db)), reference)
    index = BinaryIndex.build(db, np.arange(300) + 1000, np.arange(300) % 3, {"checkpoint_id": "c"})
    hits = index.search(pack(q), 20)
    assert np.array_equal(hits.distances, np.sort(reference, axis=1)[:, :20])
    assert np.array_equal(reference[np.arange(5)[:, None], hits.ids - 1000], hits.distances)


def test_radius_search_finds_exactly_the_codes_within_the_radius():
    db = signs(200, 32)
    db[1:6] = db[0]
    db[3, :2] *= -1  # distance 2
    db[4, :3] *= -1  # distance 3
    index = BinaryIndex.build(db, np.arange(200), np.zeros(200), {"checkpoint_id": "c"})
    hits = index.within(pack(db[:1]), 2)
    expected = np.flatnonzero((db != db[0]).sum(1) <= 2)
    assert sorted(hits.ids[0].tolist()) == expected.tolist() and 4 not in hits.ids[0]
    assert hits.distances[0].tolist() == sorted(hits.distances[0].tolist())


def test_index_file_round_trip_and_checkpoint_identity(tmp_path):
    index = BinaryIndex.build(signs(50, 64), np.arange(50), np.arange(50) % 5, {"checkpoint_id": "abc"})
    path = tmp_path / "codes.npz"
    index.save(path)
    back = BinaryIndex.load(path, expect_checkpoint="abc")
    assert np.array_equal(back.codes, index.codes) and back.bits == 64
    with pytest.raises(IndexMismatch):
        BinaryIndex.load(path, expect_checkpoint="other")
    assert not list(tmp_path.glob(".*.tmp"))


def test_average_precision_counts_the_last_item():
    assert average_precision([1, 0, 0, 1]) == pytest.approx((1 + 2 / 4) / 2)  # dropping the last item gives 1.0


def test_map_and_precision_on_a_known_case():
    db = pack(np.array([[1] * 8, [1] * 7 + [-1], [-1] * 8]))
    q = pack(np.array([[1] * 8]))
    assert hamming_map(q, np.array([0]), db, np.array([0, 1, 0])) == pytest.approx((1 + 2 / 3) / 2)
    assert precision_within(q, np.array([0]), db, np.array([0, 1, 0]), radius=2)["precision"] == 0.5


def test_saving_a_checkpoints_indexes_removes_only_that_gallerys_older_ones(tmp_path):
    from retrieval.engine.texture.serving import index_file, save_indexes

    def indexes(checkpoint_id):
        return {b: BinaryIndex.build(signs(6, b), np.arange(6), np.arange(6) % 2, {"checkpoint_id": checkpoint_id})
                for b in (32, 64)}

    save_indexes(indexes("0dd0"), tmp_path, "textures")
    save_indexes(indexes("0dd0"), tmp_path, "textures-extra")  # another gallery keeps its files
    save_indexes(indexes("feed"), tmp_path, "textures")
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == sorted(
        [index_file(tmp_path, "textures", "feed", b).name for b in (32, 64)]
        + [index_file(tmp_path, "textures-extra", "0dd0", b).name for b in (32, 64)])
