"""POST /api/degraded/ and GET /api/degraded/degradations/."""

import json

import pytest

from tests.conftest import data_url

pytestmark = pytest.mark.django_db
URL = "/api/degraded/"


def post_json(client, body: dict):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_json_query_returns_three_rows_of_results(client, degraded_gallery, query_png):
    response = post_json(client, {"image_data": data_url(query_png), "degradation": "salt_pepper",
                                  "params": {"amount": 0.2}, "k": 3, "metric": "l2", "seed": 4})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["kind"] for row in body["rows"]] == ["original", "degraded", "enhanced"]
    assert all(len(row["results"]) == 3 and row["image"].startswith("data:image/png;base64,") for row in body["rows"])
    assert body["params"] == {"amount": 0.2} and body["seed"] == 4 and body["descriptor"] == "standard"
    assert body["enhancer"]["kind"] == "denoiser" and body["degradation"] == "salt_pepper"
    first = body["rows"][1]["results"][0]
    assert {"rank", "id", "label", "distance", "histogram_distance", "image_url"} <= set(first)
    assert set(body["timings_ms"]) >= {"decode", "degrade", "enhance", "describe", "search"}


def test_multipart_with_slider_fields_and_drawn_blur(client, degraded_gallery, query_png):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(URL, {"image": SimpleUploadedFile("q.png", query_png), "degradation": "motion_blur",
                                 "motion_blur-spread": "0.1", "descriptor": "robust"})
    body = response.json()
    assert response.status_code == 200 and body["descriptor"] == "robust" and len(body["rows"]) == 3
    assert body["params"]["spread"] == 0.1 and isinstance(body["params"]["a"], float)  # drawn from the seed
    assert body["enhancer"]["kind"] == "restorer" and len(body["rows"][0]["results"]) == 5  # the page's default k


def test_a_gallery_image_by_id_and_the_same_seed_twice(client, degraded_gallery):
    example = degraded_gallery.images.filter(split="test").first()
    first, second = (post_json(client, {"example": example.pk, "degradation": "gaussian"}).json() for _ in range(2))
    assert first["rows"][1]["image"] == second["rows"][1]["image"]
    other = post_json(client, {"example": example.pk, "degradation": "gaussian", "seed": 1}).json()
    assert other["rows"][1]["image"] != first["rows"][1]["image"]


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"degradation": "gaussian", "params": {"sigma": -1}}, "params", "sigma must be between 0 and 1 (got -1)."),
    ({"degradation": "speckle", "params": {"sigma": 0.1}}, "params", "Speckle noise has no parameter 'sigma'"),
    ({"degradation": "fog"}, "degradation", "fog is not a degradation; choose one of: gaussian"),
    ({"params": [1, 2]}, "params", "params must be an object"),
    ({"k": 0}, "k", "greater than or equal to 1"),
    ({"example": 999999}, "example", "There is no gallery image with id 999999."),
])
def test_bad_input_is_a_400_listing_the_valid_range(client, degraded_gallery, query_png, body, field, message):
    response = post_json(client, {"image_data": data_url(query_png), **body})
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid_request" and message in " ".join(error["fields"][field])


def test_a_bad_image_is_a_400_and_a_missing_robust_index_a_503(client, degraded_gallery, query_png, settings):
    response = post_json(client, {"image_data": data_url(b"not an image")})
    assert response.status_code == 400 and response.json()["error"] == "invalid_image"
    settings.RETRIEVAL = {**settings.RETRIEVAL, "ROBUST_CHECKPOINT": "absent.pt"}
    response = post_json(client, {"image_data": data_url(query_png), "descriptor": "robust"})
    assert response.status_code == 503 and response.json()["error"] == "not_ready"


def test_degradations_list_their_ranges_and_enhancers(client, degraded_gallery):
    response = client.get("/api/degraded/degradations/")
    assert response.status_code == 200
    by_name = {d["name"]: d for d in response.json()}
    assert list(by_name) == ["gaussian", "salt_pepper", "speckle", "motion_blur", "low_resolution", "jpeg"]
    sigma = by_name["gaussian"]["params"][0]
    assert sigma == {"name": "sigma", "label": "sigma (spread)", "default": 0.1, "min": 0.0, "max": 1.0,
                     "step": 0.01, "integer": False}
    assert by_name["gaussian"]["enhancer"] == "denoiser" and by_name["jpeg"]["enhancer"] == "restorer"
    assert by_name["motion_blur"]["params"][1]["default"] is None


def test_the_schema_lists_the_degraded_endpoints(client, db):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/degraded/" in paths and "/api/degraded/degradations/" in paths
