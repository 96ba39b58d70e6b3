"""Atomic file writes: write beside the target, then rename over it in one step.

A temporary file is named ``.<target name>.<pid>-<n><suffix>.tmp``, so one left behind by a
killed process is recognisable: ``remove_stale_temps`` deletes those whose process is gone,
at server start-up (``portal.startup``) and before writes (a folder at most once a minute).
"""

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)(?:-\d+)?(?P<suffix>\.[^.]*)?\.tmp$")
_sequence = count()  # two threads of one process writing the same target get different names
SWEEP_EVERY_S = 60.0  # a folder of 60,000 gallery files is listed at most once a minute, not per write
_swept: dict[Path, float] = {}


@contextmanager
def atomic_path(path: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_now_and_then(path.parent)
    tmp_path = path.parent / f".{path.name}.{os.getpid()}-{next(_sequence)}{suffix}.tmp"
    fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any file
    os.close(fd)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _sweep_now_and_then(folder: Path) -> None:
    now = time.monotonic()
    if now - _swept.get(folder, -SWEEP_EVERY_S) >= SWEEP_EVERY_S:
        _swept[folder] = now
        remove_stale_temps(folder)


def temp_owner(name: str) -> tuple[str, int] | None:
    """(target name, pid) of an atomic write's temporary file name, or None for any other name."""
    match = _TEMP.match(name)
    return (match["name"], int(match["pid"])) if match else None


def remove_stale_temps(folder: Path | str, *, target: str | None = None, recursive: bool = False,
                       unnamed_older_than_s: float | None = None) -> list[Path]:
    """Delete the temporary files of atomic writes whose process no longer runs (all of them
    in ``folder``, or only those for ``target``); returns what was removed.

    ``unnamed_older_than_s``: also delete ``.*.tmp`` files without a pid in their name (written
    by earlier versions) once they are that old; only the start-up sweep asks for it."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for candidate in folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp"):
        if not _stale(candidate, target, unnamed_older_than_s):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:  # removed meanwhile, or not ours to remove
            pass
    return removed


def _stale(candidate: Path, target: str | None, unnamed_older_than_s: float | None) -> bool:
    owner = temp_owner(candidate.name)
    if owner is None:
        if target is not None or unnamed_older_than_s is None:
            return False
        try:
            return time.time() - candidate.stat().st_mtime > unnamed_older_than_s
        except OSError:
            return False
    return (target is None or owner[0] == target) and not _alive(owner[1])


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """``data`` into ``path`` atomically: four system calls for a small file (the gallery
    import writes 70,000 of them)."""
    path = Path(path)
    _sweep_now_and_then(path.parent)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{next(_sequence)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path | str, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def file_digest(path: Path | str, length: int = 16) -> str:
    """Content identity of a file (sha256 prefix): what pairs an index with its checkpoint."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]
