"""Stored query images, so that a query whose image came as bytes (an upload, a paste, a
drawing) has a link: ``?q=<id>`` on its page, and ``/queries/<id>/`` for the image itself.

Content-addressed (the id is the first 24 hex characters of the bytes' SHA-256, so storing the
same image twice keeps one file), each file capped by the upload limit, the whole store capped
in bytes and files (oldest removed first), and each query kept ``PORTAL_QUERY_TTL_HOURS`` after
its last use. Nothing sweeps on a timer: expired files are removed when a read finds one, and
by a sweep that a write runs at most once a minute (or when the store may be over its cap).
"""

import hashlib
import os
import re
import threading
import time
from pathlib import Path

from django.conf import settings

from retrieval.engine.fileio import atomic_write_bytes

ID_LENGTH = 24
_ID = re.compile(rf"^[0-9a-f]{{{ID_LENGTH}}}$")
SWEEP_EVERY_S = 60.0
_lock = threading.Lock()
_state = {"last_sweep": 0.0, "added": 0}  # bytes written since the last sweep, per process


def store_dir() -> Path:
    return Path(settings.PORTAL_QUERY_DIR)


def ttl_seconds() -> float:
    return float(settings.PORTAL_QUERY_TTL_HOURS) * 3600


def valid_id(query_id) -> bool:
    return isinstance(query_id, str) and bool(_ID.match(query_id))


def query_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:ID_LENGTH]


def query_store(data: bytes) -> str | None:
    """Keep ``data`` and return its id; None when it is empty or over the upload limit."""
    if not data or len(data) > settings.PORTAL_MAX_UPLOAD_BYTES:
        return None
    query_id = query_id_of(data)
    path = store_dir() / query_id
    if path.is_file():
        os.utime(path)  # in use again: its time to live starts over
    else:
        atomic_write_bytes(path, data)
        with _lock:
            _state["added"] += len(data)
    _maybe_sweep()
    return query_id


def query_read(query_id) -> bytes | None:
    """The stored bytes, or None when the id is malformed, unknown or expired (an expired
    file is removed)."""
    if not valid_id(query_id):
        return None
    path = store_dir() / query_id
    try:
        if time.time() - path.stat().st_mtime > ttl_seconds():
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _maybe_sweep() -> None:
    with _lock:
        due = time.monotonic() - _state["last_sweep"] > SWEEP_EVERY_S
        if not due and _state["added"] < settings.PORTAL_QUERY_STORE_MAX_BYTES // 10:
            return
        _state["last_sweep"], _state["added"] = time.monotonic(), 0
    query_sweep()


def query_sweep() -> int:
    """Remove expired files, then the oldest until the store is under both caps; returns how
    many files were removed."""
    now, ttl, removed = time.time(), ttl_seconds(), 0
    entries = []
    try:
        scan = list(os.scandir(store_dir()))
    except FileNotFoundError:
        return 0
    for entry in scan:
        if not (entry.is_file() and valid_id(entry.name)):
            continue  # temporary files of writes in progress, or anything else
        stat = entry.stat()
        if now - stat.st_mtime > ttl:
            removed += _remove(entry.path)
        else:
            entries.append((stat.st_mtime, stat.st_size, entry.path))
    entries.sort()
    total = sum(size for _, size, _ in entries)
    max_bytes, max_files = settings.PORTAL_QUERY_STORE_MAX_BYTES, settings.PORTAL_QUERY_STORE_MAX_FILES
    while entries and (total > max_bytes or len(entries) > max_files):
        _, size, path = entries.pop(0)
        total -= size
        removed += _remove(path)
    return removed


def _remove(path: str) -> int:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1


def content_type(data: bytes) -> str:
    """The image type of stored bytes by their signature (the formats the portal decodes)."""
    signatures = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
                  (b"BM", "image/bmp"), (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))
    for signature, mime in signatures:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"
