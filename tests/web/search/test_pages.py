"""The upload page, gallery browser and image pages through Django's test client."""

import pytest
from django.urls import reverse

from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def post_search(client, data: bytes | None, name="query.png", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"k": 10, "metric": "l2", **fields}
    if data is not None:
        payload["image"] = SimpleUploadedFile(name, data)
    return client.post(reverse("retrieval:search"), payload)


def test_search_page_renders_form_and_examples(client, gallery):
    response = client.get(reverse("retrieval:search"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="search-form"' in html and 'ws-connect="/ws/search/"' in html
    assert html.count('class="example"') == 10  # one test query per class


def test_plain_post_shows_results_with_explanations(client, gallery, query_png):
    response = post_search(client, query_png, k=7)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="result-card"') == 7
    assert html.count('class="histogram-distance"') == 7
    assert "feature distance" in html and "what the network sees" in html


def test_results_are_ranked_by_distance(client, gallery, query_png):
    response = post_search(client, query_png, k=10, metric="cosine")
    results = response.context["outcome"].results
    distances = [r.distance for r in results]
    assert distances == sorted(distances)
    assert [r.rank for r in results] == list(range(1, 11))
    assert all(0 <= r.histogram_distance <= 2 / 32 for r in results)


def test_htmx_post_returns_the_results_partial(client, gallery, query_png):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("retrieval:search"), {"k": 3, "image": SimpleUploadedFile("q.png", query_png)},
                           headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="search-results"' in html and html.count('class="result-card"') == 3


def test_example_query_runs_from_a_link(client, gallery):
    example = gallery.images.filter(split="test").first()
    response = client.get(reverse("retrieval:search"), {"example": example.pk, "k": 4})
    assert response.status_code == 200
    assert response.content.decode().count('class="result-card"') == 4


@pytest.mark.parametrize(("data", "fields", "status", "message"), [
    (b"", {}, 400, "empty"),
    (b"definitely not an image", {}, 400, "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", {}, 415, "SVG"),
    (None, {}, 400, "Choose or drop an image"),
    ("ok", {"k": 0}, 400, "greater than or equal to 1"),
    ("ok", {"k": 1000}, 400, "less than or equal to 100"),
    ("ok", {"metric": "manhattan"}, 400, "Select a valid choice"),
])
def test_bad_input_gets_a_message_and_4xx(client, gallery, query_png, data, fields, status, message):
    before = gallery.images.count()
    response = post_search(client, query_png if data == "ok" else data, **fields)
    assert response.status_code == status
    assert message in response.content.decode()
    assert gallery.images.count() == before


def test_truncated_image_is_reported(client, gallery, query_png):
    response = post_search(client, query_png[: len(query_png) // 2])
    assert response.status_code == 400
    assert "truncated or corrupt" in response.content.decode()


def test_oversized_upload_is_refused_with_413_page(client, gallery, settings):
    response = post_search(client, b"\0" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    assert response.status_code == 413
    assert "limit" in response.content.decode()


def test_colour_query_gets_rgb_histograms(client, gallery):
    import numpy as np

    red_square = np.zeros((40, 40, 3), np.uint8)
    red_square[10:30, 10:30] = (220, 30, 30)
    response = post_search(client, png_bytes(red_square))
    assert response.status_code == 200
    assert "R, G, B" in response.content.decode()


def test_gallery_browser_filters_and_pages(client, gallery):
    response = client.get(reverse("retrieval:gallery", args=[gallery.slug]), {"label": 3, "split": "test"})
    assert response.status_code == 200
    page = response.context["page"]
    assert page.object_list and all(img.label == 3 and img.split == "test" for img in page.object_list)
    second = client.get(reverse("retrieval:gallery", args=[gallery.slug]), {"page": 2})
    assert second.context["page"].number == 2
    assert client.get(reverse("retrieval:gallery", args=[gallery.slug]), {"label": 99}).status_code == 404


def test_gallery_list(client, gallery):
    response = client.get(reverse("retrieval:galleries"))
    assert response.status_code == 200 and "Fashion-MNIST" in response.content.decode()


def test_image_page_shows_neighbours_without_itself(client, gallery):
    image = gallery.images.filter(split="train").first()
    response = client.get(image.get_absolute_url(), {"k": 5})
    assert response.status_code == 200
    neighbours = response.context["neighbours"]
    assert len(neighbours) == 5 and image.pk not in [n.image.pk for n in neighbours]


def test_query_split_image_page_describes_on_the_fly(client, gallery):
    image = gallery.images.filter(split="test").first()
    response = client.get(image.get_absolute_url(), {"k": 3, "metric": "cosine"})
    assert response.status_code == 200 and len(response.context["neighbours"]) == 3


def test_example_query_shows_its_true_class(client, gallery):
    example = gallery.images.filter(split="test").order_by("source_index").first()
    html = client.get(reverse("retrieval:search"), {"example": example.pk, "k": 5}).content.decode()
    assert f"true class <strong>{example.label_name}</strong>" in html
    assert 'class="match"' in html


@pytest.mark.parametrize(("params", "checked"), [({}, "cosine"), ({"metric": "l2"}, "l2"), ({"metric": "bogus"}, "cosine")])
def test_the_metric_in_use_is_the_one_checked(client, gallery, params, checked):
    example = gallery.images.filter(split="test").first()
    html = client.get(reverse("retrieval:search"), {"example": example.pk, **params}).content.decode()
    assert f'value="{checked}" checked' in html
