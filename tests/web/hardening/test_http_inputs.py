"""No request body, method or size makes a query endpoint answer 5xx."""

import json

import numpy as np
import pytest

from tests.conftest import data_url, png_bytes
from tests.web.hardening.conftest import QUERY_APIS, QUERY_PAGES, nested

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", QUERY_APIS)
@pytest.mark.parametrize("levels", [33, 5000, 100_000])
def test_deeply_nested_json_is_a_clear_400(client, gallery, url, levels):
    response = client.post(url, data=nested(levels), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request" and f"nested {levels} levels deep" in body["detail"]
    assert len(response.content) < 500  # a sentence, not a debug page


@pytest.mark.parametrize("url", QUERY_APIS)
def test_deep_nesting_inside_a_field_is_refused_too(client, gallery, url):
    body = '{"image_data": "x", "params": ' + nested(1000) + "}"
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.json()["detail"]


@pytest.mark.parametrize("url", QUERY_APIS)
def test_brackets_inside_strings_do_not_count_as_nesting(client, gallery, query_png, url):
    body = {"image_data": data_url(query_png), "k": 2, "note": "[" * 5000}
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize("url", QUERY_APIS)
@pytest.mark.parametrize("body", ["{not json", '{"k": 1', "\udcff", '"just a string"', "[1, 2]", "1" * 5000, "null"])
def test_malformed_json_is_a_4xx(client, gallery, url, body):
    response = client.post(url, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize("url", QUERY_APIS)
def test_a_json_body_over_the_limit_is_413(client, gallery, url, settings):
    body = json.dumps({"image_data": "A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"] == "upload_too_large"


@pytest.mark.parametrize("url", QUERY_APIS + QUERY_PAGES + ["/galleries/", "/api/galleries/"])
@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT", "MKCOL", "FOO"])
def test_unknown_methods_are_405(client, url, method):
    response = client.generic(method, url)
    assert response.status_code == 405
    assert "GET" in response["Allow"] and method not in response["Allow"]
    if url.startswith("/api/"):
        assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("url", QUERY_PAGES)
def test_options_on_a_page_is_405(client, url):
    response = client.options(url)
    assert response.status_code == 405 and "search" not in response.content.decode().lower().split("<title>")[0]


def test_options_on_the_api_is_still_answered(client):
    assert client.options("/api/search/").status_code == 200


@pytest.mark.parametrize("url", QUERY_APIS)
def test_an_image_of_36_megapixels_is_answered(client, gallery, url):
    flat = png_bytes(np.full((6000, 6000), 90, np.uint8))  # 36 MB of pixels in a few KB
    response = client.post(url, {"image": _upload(flat), "k": 100})
    assert response.status_code == (400 if "sketch" in url else 200)  # a flat sketch is blank


@pytest.mark.parametrize("url", QUERY_APIS)
@pytest.mark.parametrize("shape", [(1, 40000), (40000, 1), (3, 20000)])
def test_long_thin_images_are_answered(client, gallery, url, shape):
    response = client.post(url, {"image": _upload(png_bytes(np.full(shape, 200, np.uint8))), "k": 3})
    assert response.status_code == (400 if "sketch" in url else 200)


def test_a_tracebackless_404_page_with_debug_off(client, settings):
    assert settings.DEBUG is False
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and b"Traceback" not in response.content


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("query.png", data, content_type="image/png")
