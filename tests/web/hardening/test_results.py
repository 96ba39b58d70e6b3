"""Explanations: the query's histograms once per query, on a thumbnail, for every hit."""

import numpy as np
import pytest
from PIL import Image

from retrieval.core.results import HISTOGRAM_SIDE, QueryHistograms, explain_hits
from retrieval.engine.explain import compare_histograms, histogram

pytestmark = pytest.mark.django_db


def test_small_queries_are_explained_exactly_as_before():
    rng = np.random.default_rng(0)
    query = Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8), "L")
    result = Image.fromarray(rng.integers(0, 255, (28, 28, 3), dtype=np.uint8), "RGB")
    hq, hr, distance = QueryHistograms(query).compare(result)
    eq, er, expected = compare_histograms(query, result)
    np.testing.assert_array_equal(hq.values, eq.values)
    np.testing.assert_array_equal(hr.values, er.values)
    assert distance == expected and hq.channels == ("R", "G", "B")


def test_a_large_query_is_histogrammed_on_a_thumbnail_close_to_the_full_image():
    rng = np.random.default_rng(1)
    pixels = np.repeat(np.repeat(rng.integers(0, 255, (50, 50), dtype=np.uint8), 40, 0), 40, 1)  # 2000 x 2000
    query = QueryHistograms(Image.fromarray(pixels, "L"))
    assert max(query.image.size) <= HISTOGRAM_SIDE
    full = histogram(Image.fromarray(pixels, "L"), colour=False)
    assert np.abs(query.get(False).values - full.values).sum() < 0.1  # 128 x 128 samples of 2,500 blocks


def test_explain_hits_yields_every_hit_with_one_query_histogram(gallery, query_png):
    from retrieval.core.runtime import engine, serving_pair

    serving_pair(gallery.slug)
    result = engine().search_bytes(gallery.slug, query_png, k=5, metric="l2")
    items = list(explain_hits(result.decoded.image, result.hits))
    assert [item.rank for item in items] == [1, 2, 3, 4, 5]
    assert len({id(item.query_histogram) for item in items}) == 1  # computed once, shared
    assert all(0 <= item.histogram_distance <= 1 for item in items)


@pytest.mark.parametrize("query_mode", ["L", "RGB"])
def test_cached_gallery_histograms_explain_as_a_fresh_open_does(gallery, query_mode):
    from retrieval.core.results import gallery_histograms, open_gallery_image

    name = gallery.images.filter(split="train").first().file.name
    rng = np.random.default_rng(2)
    query = QueryHistograms(Image.fromarray(rng.integers(0, 255, (28, 28, 3), dtype=np.uint8), "RGB").convert(query_mode))
    fresh = query.compare(open_gallery_image(name))
    for _ in range(2):  # computed, then from the cache
        cached = query.compare_gallery(name)
        np.testing.assert_array_equal(cached[1].values, fresh[1].values)
        assert cached[2] == fresh[2] and cached[1].channels == fresh[1].channels
    assert gallery_histograms.cache_info().hits >= 1


@pytest.mark.parametrize("query_mode", ["L", "RGB"])
def test_stored_counts_explain_a_hit_as_its_file_does_and_open_no_file(gallery, query_mode, monkeypatch):
    from retrieval.core import results

    row = gallery.images.filter(split="train").first()
    assert row.histogram, "the import stores each image's counts"
    rng = np.random.default_rng(3)
    query = QueryHistograms(Image.fromarray(rng.integers(0, 255, (28, 28, 3), dtype=np.uint8), "RGB").convert(query_mode))
    fresh = query.compare(results.open_gallery_image(row.file.name))

    def no_file(*args, **kwargs):
        raise AssertionError("a stored histogram must not open the file")

    monkeypatch.setattr(results, "open_gallery_image", no_file)
    stored = query.compare_row(row)
    np.testing.assert_array_equal(stored[1].values, fresh[1].values)
    assert stored[2] == fresh[2] and stored[1].channels == fresh[1].channels


def test_a_row_without_stored_counts_is_explained_from_its_file(gallery):
    from retrieval.core.results import open_gallery_image

    row = gallery.images.filter(split="train").first()
    gallery.images.filter(pk=row.pk).update(histogram=None)
    row.refresh_from_db()
    query = QueryHistograms(open_gallery_image(row.file.name))
    assert query.compare_row(row)[2] == 0.0  # itself


def test_hit_rows_in_one_query_with_their_gallery(gallery, django_assert_num_queries):
    from retrieval.core.results import hit_rows

    ids = list(gallery.images.values_list("pk", flat=True)[:4]) + [10**9]  # one deleted since indexing
    with django_assert_num_queries(1):
        rows = hit_rows(ids, gallery)
        assert {row.gallery.slug for row in rows.values()} == {gallery.slug}
    with django_assert_num_queries(2):  # the gallery looked up
        rows = hit_rows(ids)
        assert sorted(rows) == sorted(ids[:4]) and rows[ids[0]].label_name
