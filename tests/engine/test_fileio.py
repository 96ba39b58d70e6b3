"""Atomic writes and content digests."""

import hashlib
import json

import pytest

from retrieval.engine.fileio import atomic_path, atomic_write_bytes, atomic_write_json, file_digest


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_bytes_creates_folders_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a" / "b" / "data.bin"
    atomic_write_bytes(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert names(target.parent) == ["data.bin"]


def test_atomic_write_replaces_existing_file(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["data.bin"]


def test_failure_in_body_keeps_old_file_and_removes_temp(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target, suffix=".pt") as tmp:
        assert tmp.parent == tmp_path and tmp != target
        assert tmp.name.startswith(".data.bin.") and tmp.name.endswith(".pt.tmp")
        tmp.write_bytes(b"half written")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["data.bin"]


def test_failure_without_previous_file_creates_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("{")
        raise RuntimeError
    assert names(tmp_path) == []


def test_target_untouched_until_body_finishes(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new"


def test_atomic_write_json(tmp_path):
    target = tmp_path / "meta.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2]})
    text = target.read_text()
    assert json.loads(text) == {"a": [1, 2], "b": 1}
    assert text.endswith("\n") and text.index('"a"') < text.index('"b"')
    assert names(tmp_path) == ["meta.json"]


def test_file_digest_is_sha256_prefix_and_follows_content(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    first = file_digest(path)
    assert first == hashlib.sha256(b"abc").hexdigest()[:16]
    assert file_digest(path, length=8) == first[:8]
    path.write_bytes(b"abd")
    assert file_digest(path) != first
    path.write_bytes(b"abc")
    assert file_digest(path) == first


def test_file_digest_reads_large_files_in_chunks(tmp_path):
    data = bytes(range(256)) * 5000  # > 1 MiB, several chunks
    path = tmp_path / "big"
    path.write_bytes(data)
    assert file_digest(path, length=64) == hashlib.sha256(data).hexdigest()
