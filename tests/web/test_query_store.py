"""Stored queries (``core.query_store``): content-addressed, capped per file and in all, expiring
after ``PORTAL_QUERY_TTL_HOURS``; and their page ``/queries/<id>/``."""

import os
import time

import pytest

from retrieval.core import query_store
from tests.conftest import png_bytes


@pytest.fixture
def store(settings, tmp_path):
    settings.PORTAL_QUERY_DIR = tmp_path / "queries"
    return settings.PORTAL_QUERY_DIR


def image(seed: int) -> bytes:
    import numpy as np

    return png_bytes(np.random.default_rng(seed).integers(0, 255, (16, 16), dtype=np.uint8))


def age(store, query_id: str, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(store / query_id, (then, then))


def test_the_same_bytes_are_kept_once_under_their_digest(store):
    first, again = query_store.query_store(image(0)), query_store.query_store(image(0))
    assert first == again and len(first) == 24 and query_store.valid_id(first)
    assert query_store.query_read(first) == image(0) and len(list(store.iterdir())) == 1


def test_empty_and_oversized_queries_are_not_kept(store, settings):
    assert query_store.query_store(b"") is None
    assert query_store.query_store(b"\0" * (settings.PORTAL_MAX_UPLOAD_BYTES + 1)) is None
    assert not store.exists() or not list(store.iterdir())


def test_a_query_expires_after_the_ttl_and_is_removed_when_read(store, settings):
    settings.PORTAL_QUERY_TTL_HOURS = 2
    kept, old = query_store.query_store(image(1)), query_store.query_store(image(2))
    age(store, kept, 1)
    age(store, old, 3)
    assert query_store.query_read(kept) == image(1)
    assert query_store.query_read(old) is None and not (store / old).exists()


def test_using_a_query_again_restarts_its_ttl(store, settings):
    settings.PORTAL_QUERY_TTL_HOURS = 2
    query_id = query_store.query_store(image(3))
    age(store, query_id, 1.5)
    query_store.query_store(image(3))
    age_now = time.time() - (store / query_id).stat().st_mtime
    assert age_now < 60


def test_the_sweep_removes_expired_then_oldest_until_under_the_caps(store, settings):
    settings.PORTAL_QUERY_TTL_HOURS = 10
    ids = []
    for seed in range(5):
        ids.append(query_store.query_store(image(10 + seed)))
        age(store, ids[-1], 5 - seed)  # the first stored is the oldest
    age(store, ids[0], 11)  # expired
    settings.PORTAL_QUERY_STORE_MAX_FILES = 2
    assert query_store.query_sweep() == 3
    assert sorted(p.name for p in store.iterdir()) == sorted(ids[3:])
    size = (store / ids[3]).stat().st_size
    settings.PORTAL_QUERY_STORE_MAX_BYTES = size  # room for one: the older one goes
    assert query_store.query_sweep() == 1 and [p.name for p in store.iterdir()] == [ids[4]]


def test_writes_keep_the_store_under_its_byte_cap(store, settings):
    one = len(image(20))
    settings.PORTAL_QUERY_STORE_MAX_BYTES = 3 * one + 10
    for seed in range(6):
        query_store.query_store(image(20 + seed))
    assert sum(p.stat().st_size for p in store.iterdir()) <= settings.PORTAL_QUERY_STORE_MAX_BYTES


def test_the_query_page_serves_the_image(client, store):
    query_id = query_store.query_store(image(30))
    response = client.get(f"/queries/{query_id}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png" and response.content == image(30)


@pytest.mark.parametrize("query_id", ["0" * 24, "A" * 24, "0" * 23, "0" * 25, "..%2F..%2Fsettings", "zz"])
def test_unknown_or_malformed_ids_are_a_plain_404(client, store, query_id):
    response = client.get(f"/queries/{query_id}/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/plain")
    assert "does not exist or has expired" in response.content.decode()


def test_an_expired_query_page_is_a_404(client, store, settings):
    settings.PORTAL_QUERY_TTL_HOURS = 1
    query_id = query_store.query_store(image(31))
    age(store, query_id, 2)
    assert client.get(f"/queries/{query_id}/").status_code == 404
