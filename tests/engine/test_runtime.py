"""Runtime: descriptor/index pairs loaded, paired by checkpoint identity, installed and searched.
Checkpoints here hold a small untrained network: enough for identity and plumbing."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from retrieval.engine.descriptors import load_descriptor
from retrieval.engine.errors import IndexMismatch, InvalidImage, NotReady
from retrieval.engine.index import VectorIndex
from retrieval.engine.nets import create_net
from retrieval.engine.runtime import Runtime, SearchPair, get_runtime, reset_runtime

NET_KWARGS = {"num_classes": 3, "in_channels": 1, "input_size": 28, "width": 4}


def write_checkpoint(path, seed: int):
    torch.manual_seed(seed)
    net = create_net("fmnist_cnn", **NET_KWARGS)
    torch.save({"family": "cnn", "arch": "fmnist_cnn", "net_kwargs": NET_KWARGS, "state_dict": net.state_dict(),
                "classes": ["a", "b", "c"], "mean": 0.2, "std": 0.3}, path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runtime")
    ckpt_a, ckpt_b = write_checkpoint(folder / "a.pt", 0), write_checkpoint(folder / "b.pt", 1)
    rng = np.random.default_rng(0)
    gallery = rng.integers(0, 8, (12, 28, 28)).astype(np.uint8)  # dark (near-black) backgrounds: gallery style, kept as it is
    for i, img in enumerate(gallery):
        img[4 + i: 14 + i, 6:22] = 220
    ids, labels = np.arange(500, 512), np.arange(12) % 3
    for ckpt in (ckpt_a, ckpt_b):
        descriptor = load_descriptor(ckpt)
        VectorIndex.build(descriptor.describe_arrays(gallery), ids, labels,
                          {"checkpoint_id": descriptor.checkpoint_id, "features": descriptor.features},
                          ).save(ckpt.with_suffix(".index"))
    return folder, gallery


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(array, "L").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def runtime(files):
    folder, _ = files
    rt = Runtime(torch.device("cpu"), faiss_gpu=False)
    rt.install("g", rt.load_pair(folder / "a.pt", folder / "a.index"))
    return rt


def test_load_pair_refuses_an_index_of_another_checkpoint(files):
    folder, _ = files
    rt = Runtime(torch.device("cpu"), faiss_gpu=False)
    with pytest.raises(IndexMismatch):
        rt.load_pair(folder / "a.pt", folder / "b.index")
    good = rt.load_pair(folder / "b.pt", folder / "b.index")
    other = rt.load_pair(folder / "a.pt", folder / "a.index")
    with pytest.raises(IndexMismatch):
        SearchPair(good.descriptor, other.index, "b.pt", "a.index")
    assert good.checkpoint_id != other.checkpoint_id


def test_missing_key_is_not_ready(runtime, files):
    _, gallery = files
    assert runtime.has("g") and not runtime.has("other")
    with pytest.raises(NotReady) as info:
        runtime.search_bytes("other", png(gallery[0]), k=3, metric="l2")
    assert "not built yet" in str(info.value)


def test_search_bytes_finds_the_gallery_item_itself(runtime, files):
    _, gallery = files
    result = runtime.search_bytes("g", png(gallery[7]), k=4, metric="cosine")
    assert result.hits.ids.shape == (4,) and result.hits.ids[0] == 507
    assert result.hits.distances[0] == pytest.approx(0, abs=1e-5)
    assert result.hits.labels[0] == 7 % 3
    assert result.view.inverted is False and result.decoded.format == "PNG"
    assert result.checkpoint_id == runtime.pair("g").checkpoint_id
    assert set(result.timings_ms) == {"decode", "describe", "search"}


def test_search_bytes_rejects_bad_images(runtime):
    with pytest.raises(InvalidImage):
        runtime.search_bytes("g", b"not an image", k=3, metric="l2")


def test_neighbours_exclude_the_item(runtime):
    hits = runtime.neighbours("g", 503, k=5, metric="l2")
    assert len(hits.ids) == 5 and 503 not in hits.ids.tolist()
    assert (np.diff(hits.distances) >= -1e-6).all()
    assert len(runtime.neighbours("g", 503, k=50, metric="l2").ids) == 11  # all the others
    with pytest.raises(KeyError):
        runtime.neighbours("g", 999, k=3, metric="l2")


def test_install_swaps_and_returns_previous(runtime, files):
    folder, _ = files
    first = runtime.pair("g")
    second = runtime.load_pair(folder / "b.pt", folder / "b.index")
    assert runtime.install("g", second) is first
    assert runtime.pair("g") is second
    assert runtime.install("new", first) is None


def test_describe_gives_vectors(runtime):
    vectors = runtime.describe("g", [Image.new("RGB", (30, 20), "white")])
    assert vectors.shape == (1, 16) and vectors.dtype == np.float32


def test_get_runtime_is_a_process_singleton():
    reset_runtime()
    try:
        rt = get_runtime("cpu")
        assert get_runtime() is rt and rt.device == torch.device("cpu")
        reset_runtime()
        assert get_runtime("cpu") is not rt
    finally:
        reset_runtime()


def test_concurrent_searches_during_swaps_never_fail_or_mix_pairs(files):
    """Searches run while another thread swaps two pairs back and forth: every answer is
    exactly the answer of one whole pair (its checkpoint id says which), and none fails."""
    import threading

    folder, gallery = files
    rt = Runtime(torch.device("cpu"), faiss_gpu=False)
    pairs = [rt.load_pair(folder / "a.pt", folder / "a.index"), rt.load_pair(folder / "b.pt", folder / "b.index")]
    query = png(gallery[3])
    expected = {}
    for pair in pairs:
        rt.install("g", pair)
        result = rt.search_bytes("g", query, k=5, metric="l2")
        expected[pair.checkpoint_id] = (result.hits.ids.tolist(), result.hits.distances.round(5).tolist())
    assert len(expected) == 2
    errors, answers, stop = [], [], threading.Event()

    def search():
        while not stop.is_set():
            try:
                result = rt.search_bytes("g", query, k=5, metric="l2")
                answers.append((result.checkpoint_id, result.hits.ids.tolist(), result.hits.distances.round(5).tolist()))
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                errors.append(error)

    def swap():
        import time

        for i in range(200):
            rt.install("g", pairs[i % 2])
            time.sleep(0.002)  # let searches run against each pair
        stop.set()

    threads = [threading.Thread(target=search) for _ in range(4)] + [threading.Thread(target=swap)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert {answer[0] for answer in answers} == set(expected)  # both pairs really served
    for checkpoint_id, ids, distances in answers:
        assert (ids, distances) == expected[checkpoint_id]


def test_load_pair_refuses_an_index_of_other_features(files, tmp_path):
    folder, gallery = files
    descriptor = load_descriptor(folder / "a.pt")
    VectorIndex.build(descriptor.describe_arrays(gallery), np.arange(12), np.arange(12) % 3,
                      {"checkpoint_id": descriptor.checkpoint_id, "features": "gap"}).save(tmp_path / "old.index")
    with pytest.raises(IndexMismatch, match="rebuild the index"):
        Runtime(torch.device("cpu"), faiss_gpu=False).load_pair(folder / "a.pt", tmp_path / "old.index")


def test_descriptor_is_invariant_to_mirroring(files):
    folder, gallery = files
    descriptor = load_descriptor(folder / "a.pt")
    vectors = descriptor.describe_arrays(gallery[:3])
    mirrored = descriptor.describe_arrays(gallery[:3, :, ::-1])
    assert np.allclose(vectors, mirrored, atol=1e-5)


def test_graph_search_builds_graphs_for_installed_and_later_pairs(files, monkeypatch):
    import time

    from retrieval.engine import index as index_module

    monkeypatch.setattr(index_module, "GRAPH_MIN_ITEMS", 1)  # the 12-item test index gets graphs too
    folder, gallery = files
    rt = Runtime(torch.device("cpu"), faiss_gpu=False)
    first = rt.load_pair(folder / "a.pt", folder / "a.index")
    rt.install("g", first)
    assert first.index.search_method == "exact"  # servers turn graphs on; nothing else does
    rt.enable_graph_search()
    later = rt.load_pair(folder / "b.pt", folder / "b.index")
    rt.install("h", later)
    deadline = time.monotonic() + 60
    while {first.index.search_method, later.index.search_method} != {"hnsw"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.index.search_method == later.index.search_method == "hnsw"
    result = rt.search_bytes("g", png(gallery[3]), k=1, metric="l2")
    assert result.hits.method == "hnsw" and result.hits.ids[0] == 503
