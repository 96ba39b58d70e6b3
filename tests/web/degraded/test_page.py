"""The degraded-query page through Django's test client: three rows, sliders, bad input."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db
URL = "/degraded/"


def post(client, data: bytes | None = None, headers=None, **fields):
    payload = {"k": 4, "metric": "cosine", "degradation": "gaussian", **fields}
    if data is not None:
        payload["image"] = SimpleUploadedFile("query.png", data)
    return client.post(reverse("retrieval:degraded"), payload, headers=headers or {})


def rows(html: str) -> int:
    return html.count('class="degraded-row"')


def test_the_page_offers_every_degradation_with_the_papers_defaults(client, degraded_gallery):
    html = client.get(URL).content.decode()
    assert 'id="degraded-form"' in html and 'ws-connect="/ws/search/"' in html
    for name in ("gaussian", "salt_pepper", "speckle", "motion_blur", "low_resolution", "jpeg"):
        assert f'<option value="{name}"' in html
    assert 'name="gaussian-sigma"' in html and 'value="0.1"' in html and 'min="0.0" max="1.0"' in html
    assert 'name="motion_blur-spread"' in html and 'name="motion_blur-a"' not in html  # a, b: drawn
    assert html.count('class="example"') == 10
    assert 'href="/degraded/"' in html and "Degraded queries" in html  # the nav link


def test_a_plain_post_shows_three_rows_with_explained_results(client, degraded_gallery, query_png):
    response = post(client, query_png, **{"gaussian-sigma": "0.3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert rows(html) == 3 and html.count('class="result-card"') == 12
    assert html.count('class="histogram-distance"') == 12
    for kind in ("original", "degraded", "enhanced"):
        assert f'id="degraded-grid-{kind}"' in html
    assert "sigma 0.3" in html and "by the denoiser" in html
    outcome = response.context["outcome"]
    assert outcome.query.params == {"sigma": 0.3, "mean": 0.0}


def test_the_original_row_is_an_ordinary_search(client, degraded_gallery, query_png):
    outcome = post(client, query_png, k=5, metric="l2").context["outcome"]
    search = client.post(reverse("retrieval:search"), {"k": 5, "metric": "l2",
                                                       "image": SimpleUploadedFile("q.png", query_png)}).context["outcome"]
    assert [r.image.pk for r in outcome.results["original"]] == [r.image.pk for r in search.results]


def test_an_example_from_the_test_set_runs_from_a_link(client, degraded_gallery):
    example = degraded_gallery.images.filter(split="test").first()
    response = client.get(URL, {"example": example.pk, "degradation": "low_resolution", "low_resolution-level": 2})
    html = response.content.decode()
    assert response.status_code == 200 and rows(html) == 3 and "true class" in html
    assert response.context["outcome"].query.params == {"level": 2}


def test_the_hidden_example_is_used_when_no_file_is_sent(client, degraded_gallery):
    example = degraded_gallery.images.filter(split="train").first()
    response = post(client, example=example.pk, degradation="jpeg", **{"jpeg-quality": "5"})
    assert response.status_code == 200 and rows(response.content.decode()) == 3


def test_htmx_post_returns_the_partial(client, degraded_gallery, query_png):
    response = post(client, query_png, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="degraded-results"' in html and rows(html) == 3


def test_the_robust_descriptor_is_selectable(client, degraded_gallery, query_png):
    from retrieval.degraded.services import robust_pair

    response = post(client, query_png, descriptor="robust")
    assert response.status_code == 200 and "robust descriptor" in response.content.decode()
    assert response.context["outcome"].query.checkpoint_id == robust_pair(degraded_gallery.slug).checkpoint_id


@pytest.mark.parametrize(("fields", "message"), [
    ({"gaussian-sigma": "-0.1"}, "sigma must be between 0 and 1 (got &#x27;-0.1&#x27;)"),
    ({"degradation": "salt_pepper", "salt_pepper-amount": "1.5"}, "amount must be between 0 and 1"),
    ({"degradation": "fog"}, "fog is not a degradation; choose one of: gaussian, salt_pepper"),
    ({"seed": "-3"}, "greater than or equal to 0"),
    ({"descriptor": "magic"}, "magic is not a descriptor; choose one of: standard, robust"),
    ({"params": "{not json"}, "params must be a JSON object"),
])
def test_bad_parameters_are_a_400_naming_the_valid_range(client, degraded_gallery, query_png, fields, message):
    response = post(client, query_png, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert rows(response.content.decode()) == 0


def test_bad_images_get_the_upload_pages_messages(client, degraded_gallery):
    assert "not an image" in post(client, b"plain text").content.decode()
    assert post(client, b"plain text").status_code == 400
    assert "Choose, drop or pick an image" in post(client).content.decode()


@pytest.mark.parametrize("shape", [(1, 1), (2400, 1800)])
def test_tiny_and_large_images_are_degraded_at_the_networks_size(client, degraded_gallery, shape):
    image = np.full(shape, 200, np.uint8)
    image[: shape[0] // 2] = 30
    for degradation in ("motion_blur", "low_resolution"):
        response = post(client, png_bytes(image), degradation=degradation)
        assert response.status_code == 200 and rows(response.content.decode()) == 3


def test_without_an_enhancer_there_are_two_rows_and_a_notice(client, degraded_gallery, query_png, settings):
    settings.RETRIEVAL = {**settings.RETRIEVAL, "ENHANCER_CHECKPOINTS": {"denoiser": "absent.pt"}}
    html = post(client, query_png).content.decode()
    assert rows(html) == 2 and "No enhancer is trained for gaussian noise" in html


def test_a_missing_robust_descriptor_is_a_503_that_says_what_to_run(client, degraded_gallery, query_png, settings):
    settings.RETRIEVAL = {**settings.RETRIEVAL, "ROBUST_CHECKPOINT": "absent.pt"}
    response = post(client, query_png, descriptor="robust")
    assert response.status_code == 503 and "manage.py train robust_descriptor" in response.content.decode()
    assert 'value="robust"' in response.content.decode() and "disabled" in response.content.decode()
