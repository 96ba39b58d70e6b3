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


def dead_pid() -> int:
    """A pid no process has now: a child that has exited and been reaped."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_files_name_their_target_and_process(tmp_path):
    import os

    from retrieval.engine.fileio import temp_owner

    with atomic_path(tmp_path / "index.npz", suffix=".pt") as tmp:
        assert temp_owner(tmp.name) == ("index.npz", os.getpid())
    assert temp_owner("index.npz") is None and temp_owner(".index.npz.tmp") is None


def test_stale_temp_of_a_dead_process_is_removed_before_the_next_write(tmp_path):
    from retrieval.engine import fileio

    fileio._swept.clear()  # the folder's first write in this process sweeps it
    stale = tmp_path / f".index.npz.{dead_pid()}-0.tmp"
    stale.write_bytes(b"x" * 1000)  # what kill -9 during a save leaves
    other = tmp_path / f".other.npz.{dead_pid()}-0.tmp"
    other.write_bytes(b"")
    atomic_write_bytes(tmp_path / "index.npz", b"new")
    assert names(tmp_path) == ["index.npz"]


def test_startup_sweep_keeps_live_writers_and_unknown_files(tmp_path):
    import os

    from retrieval.engine.fileio import remove_stale_temps

    live = tmp_path / f".a.pt.{os.getppid()}-3.tmp"  # a running process: still writing
    dead = tmp_path / "sub" / f".b.pt.{dead_pid()}-0.pt.tmp"
    unnamed = tmp_path / ".c.pt.k2j4h1.tmp"  # an older version's mkstemp name
    dead.parent.mkdir()
    for path in (live, dead, unnamed):
        path.write_bytes(b"")
    assert remove_stale_temps(tmp_path, recursive=True) == [dead]
    assert live.exists() and unnamed.exists()
    os.utime(unnamed, (0, 0))
    assert remove_stale_temps(tmp_path, unnamed_older_than_s=3600) == [unnamed]
    assert live.exists()
