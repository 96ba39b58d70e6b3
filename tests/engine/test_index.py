"""VectorIndex: exact nearest neighbours (L2 and cosine), atomic save/load, checkpoint pairing."""

import numpy as np
import pytest

from retrieval.engine.errors import IndexMismatch
from retrieval.engine.index import FORMAT_VERSION, VectorIndex, read_index_meta


def build(vectors, ids=None, labels=None, checkpoint="ckpt-a"):
    vectors = np.asarray(vectors, dtype=np.float32)
    ids = np.arange(100, 100 + len(vectors)) if ids is None else ids
    labels = np.arange(len(vectors)) % 3 if labels is None else labels
    return VectorIndex.build(vectors, ids, labels, {"checkpoint_id": checkpoint})


@pytest.fixture
def random_index():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    return build(vectors), vectors, rng.normal(size=(5, 8)).astype(np.float32)


def test_l2_known_neighbours_and_true_euclidean_distance():
    ix = build([[0, 0], [3, 4], [10, 0]], ids=np.array([7, 8, 9]), labels=np.array([0, 1, 2]))
    hits = ix.search(np.array([[0.0, 0.0], [9.0, 0.0]]), k=3, metric="l2")
    assert hits.ids.tolist() == [[7, 8, 9], [9, 8, 7]]
    assert hits.labels.tolist() == [[0, 1, 2], [2, 1, 0]]
    np.testing.assert_allclose(hits.distances, [[0, 5, 10], [1, np.hypot(6, 4), 9]], rtol=1e-5, atol=1e-4)
    assert hits.distances.dtype == np.float32


def test_cosine_known_neighbours_and_one_minus_cos():
    # the query's length must not matter for cosine; [1, 1] is at 45 degrees
    ix = build([[1, 0], [1, 1], [0, 5], [-2, 0]], ids=np.array([1, 2, 3, 4]))
    hits = ix.search(np.array([[10.0, 0.0]]), k=4, metric="cosine")
    assert hits.ids.tolist() == [[1, 2, 3, 4]]
    np.testing.assert_allclose(hits.distances[0], [0, 1 - np.sqrt(0.5), 1, 2], atol=1e-6)


def test_metrics_rank_differently():
    # [100, 0] is far in L2 but has the same direction as the query
    ix = build([[100, 0], [0.5, 0.6]], ids=np.array([1, 2]))
    query = np.array([[1.0, 0.0]])
    assert ix.search(query, 1, "l2").ids[0, 0] == 2
    assert ix.search(query, 1, "cosine").ids[0, 0] == 1


def test_random_data_matches_brute_force(random_index):
    ix, vectors, queries = random_index
    l2 = np.linalg.norm(queries[:, None] - vectors[None], axis=2)
    hits = ix.search(queries, 5, "l2")
    np.testing.assert_array_equal(hits.ids, 100 + np.argsort(l2, axis=1)[:, :5])
    np.testing.assert_allclose(hits.distances, np.sort(l2, axis=1)[:, :5], rtol=1e-4, atol=1e-4)

    cos = (queries @ vectors.T) / np.linalg.norm(queries, axis=1)[:, None] / np.linalg.norm(vectors, axis=1)[None]
    hits = ix.search(queries, 5, "cosine")
    np.testing.assert_array_equal(hits.ids, 100 + np.argsort(-cos, axis=1)[:, :5])
    np.testing.assert_allclose(hits.distances, np.sort(1 - cos, axis=1)[:, :5], atol=1e-5)
    np.testing.assert_array_equal(hits.labels, (hits.ids - 100) % 3)


def test_k_is_clamped_to_index_size_and_to_at_least_one(random_index):
    ix, _, queries = random_index
    assert ix.search(queries, 1000).ids.shape == (5, 40)
    assert ix.search(queries, 0).ids.shape == (5, 1)
    assert len(set(ix.search(queries[:1], 1000).ids[0].tolist())) == 40  # every item once


def test_single_vector_query_is_accepted(random_index):
    ix, vectors, _ = random_index
    hits = ix.search(vectors[3], 2)
    assert hits.ids.shape == (1, 2) and hits.ids[0, 0] == 103


def test_unknown_metric_raises(random_index):
    ix, _, queries = random_index
    with pytest.raises(ValueError, match="unknown metric 'ip'"):
        ix.search(queries, 3, "ip")


def test_build_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        VectorIndex.build(np.zeros((3, 2), np.float32), np.arange(3), np.arange(2), {"checkpoint_id": "x"})


def test_meta_len_dim_vector_and_contains(random_index):
    ix, vectors, _ = random_index
    assert len(ix) == 40 and ix.dim == 8
    assert ix.meta["count"] == 40 and ix.meta["dim"] == 8
    assert ix.checkpoint_id == "ckpt-a"
    np.testing.assert_array_equal(ix.vector(117), vectors[17])
    np.testing.assert_array_equal(ix.vector(np.int64(100)), vectors[0])
    assert 139 in ix and 140 not in ix and 99 not in ix
    with pytest.raises(KeyError):
        ix.vector(5)


def test_build_does_not_alias_caller_vectors():
    vectors = np.ones((2, 3), np.float32)
    ix = build(vectors)
    vectors[:] = 0
    np.testing.assert_array_equal(ix.vector(100), [1, 1, 1])


def test_save_load_round_trip(tmp_path, random_index):
    ix, vectors, queries = random_index
    path = tmp_path / "gallery.index"
    ix.save(path)
    loaded = VectorIndex.load(path, expect_checkpoint="ckpt-a")
    for metric in ("l2", "cosine"):
        a, b = ix.search(queries, 7, metric), loaded.search(queries, 7, metric)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.distances, b.distances)
    np.testing.assert_array_equal(loaded.ids, ix.ids)
    np.testing.assert_array_equal(loaded.vector(121), vectors[21])
    assert loaded.checkpoint_id == "ckpt-a" and loaded.meta["format"] == FORMAT_VERSION
    assert read_index_meta(path) == {"checkpoint_id": "ckpt-a", "dim": 8, "count": 40, "format": FORMAT_VERSION}


def test_load_without_expectation_accepts_any_checkpoint(tmp_path, random_index):
    ix, _, _ = random_index
    ix.save(tmp_path / "a.index")
    assert len(VectorIndex.load(tmp_path / "a.index")) == 40


def test_load_with_wrong_checkpoint_raises_index_mismatch(tmp_path, random_index):
    ix, _, _ = random_index
    ix.save(tmp_path / "a.index")
    with pytest.raises(IndexMismatch) as info:
        VectorIndex.load(tmp_path / "a.index", expect_checkpoint="ckpt-b")
    message = str(info.value)
    assert "ckpt-a" in message and "ckpt-b" in message and "rebuild" in message


def test_save_is_atomic_and_replaces_existing_file(tmp_path):
    path = tmp_path / "sub" / "g.index"
    build([[0, 0], [1, 1]], checkpoint="old").save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.index"]
    build([[5, 5], [6, 6], [7, 7]], checkpoint="new").save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.index"]  # no stray temp file
    loaded = VectorIndex.load(path, expect_checkpoint="new")
    assert len(loaded) == 3
    np.testing.assert_array_equal(loaded.vector(102), [7, 7])


def test_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "g.index"
    build([[0, 0], [1, 1]], checkpoint="old").save(path)
    broken = build([[2, 2]], checkpoint="new")
    broken.meta["unserialisable"] = object()  # json.dumps fails half-way through the save
    with pytest.raises(TypeError):
        broken.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.index"]
    assert VectorIndex.load(path).checkpoint_id == "old"


def test_search_on_empty_index_returns_no_hits():
    ix = VectorIndex.build(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64),
                           {"checkpoint_id": "x"})
    assert len(ix) == 0
    hits = ix.search(np.ones((2, 4), np.float32), 5)
    assert hits.ids.shape == hits.distances.shape == hits.labels.shape == (2, 0)


@pytest.fixture
def graph_index(monkeypatch):
    from retrieval.engine import index as index_module

    monkeypatch.setattr(index_module, "GRAPH_MIN_ITEMS", 500)
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(2000, 8)).astype(np.float32)
    return build(vectors, labels=np.zeros(2000, np.int64)), rng.normal(size=(50, 8)).astype(np.float32)


def test_graphs_answer_nearly_as_the_exact_scan_with_the_same_distances(graph_index):
    ix, queries = graph_index
    assert ix.search_method == "exact" and ix.search(queries, 10, "l2").method == "exact"
    assert ix.build_graphs() and ix.build_graphs()  # a second call builds nothing new
    assert ix.search_method == "hnsw"
    for metric in ("l2", "cosine"):
        approx, exact = ix.search(queries, 10, metric), ix.search(queries, 10, metric, exact=True)
        assert approx.method == "hnsw" and exact.method == "exact"
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx.ids, exact.ids, strict=True)])
        assert recall >= 0.95
        # a hit's distance is its true distance, whichever search found it
        for row in range(5):
            for gallery_id, distance in zip(approx.ids[row], approx.distances[row], strict=True):
                v, q = ix.vector(gallery_id), queries[row]
                true = np.linalg.norm(v - q) if metric == "l2" else 1 - v @ q / np.linalg.norm(v) / np.linalg.norm(q)
                assert distance == pytest.approx(true, abs=1e-4)


def test_big_k_on_a_graph_returns_k_hits(graph_index):
    ix, queries = graph_index
    ix.build_graphs()
    hits = ix.search(queries[:2], 100, "cosine")
    assert hits.ids.shape == (2, 100) and all(len(set(row)) == 100 for row in hits.ids)


def test_small_indexes_keep_the_exact_scan(random_index):
    ix, _, queries = random_index
    assert not ix.build_graphs()
    assert ix.search_method == "exact" and ix.search(queries, 3).method == "exact"
