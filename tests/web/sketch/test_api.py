"""The sketch API against the tiny gallery and the tiny sketch models: every mode answers,
and every bad drawing gets a 4xx in the API's error shape, never a 500."""

import base64
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retrieval.engine.sketch.search import SKETCH_MODES, SketchModels
from tests.support.sketches import blank_png, data_url, huge_header_png, long_thin_png, tshirt_png
from tests.web.search.test_api import RESULT_KEYS, assert_error

SEARCH = "/api/sketch/search/"
MODES = "/api/sketch/modes/"


def upload(client, data: bytes, name: str = "sketch.png", **fields):
    return client.post(SEARCH, {"image": SimpleUploadedFile(name, data, content_type="image/png"), **fields})


def post_json(client, body):
    return client.post(SEARCH, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("mode", list(SKETCH_MODES))
def test_each_mode_returns_sorted_results_and_what_the_models_made_of_the_sketch(client, gallery, mode):
    response = upload(client, tshirt_png(), mode=mode, k=6)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["mode"] == mode and body["k"] == 6 and body["metric"] == "cosine" and body["gallery"] == gallery.slug
    assert body["sketch"] == {"width": 280, "height": 280, "format": "PNG"}
    assert {"decode", "normalise", "describe", "search"} <= set(body["timings_ms"])
    assert body["sketch_view"].startswith("data:image/png;base64,")
    assert body["generated"].startswith("data:image/png;base64,")  # the tiny GAN is trained in every mode
    results = body["results"]
    assert [r["rank"] for r in results] == list(range(1, 7))
    assert all(set(r) == RESULT_KEYS for r in results)
    distances = [r["distance"] for r in results]
    assert distances == sorted(distances)
    assert all(r["label_name"] == gallery.class_names[r["label"]] and r["histogram_distance"] >= 0 for r in results)
    assert results[0]["image_url"].startswith("http://testserver/")


def test_the_default_mode_is_the_settings_one(client, gallery, settings):
    assert upload(client, tshirt_png()).json()["mode"] == settings.RETRIEVAL["DEFAULT_SKETCH_MODE"]


@pytest.mark.parametrize("encode", [data_url, lambda png: base64.b64encode(png).decode()], ids=["data-url", "bare-base64"])
def test_json_body_with_a_data_url_or_bare_base64(client, gallery, encode):
    response = post_json(client, {"image_data": encode(tshirt_png()), "mode": "direct", "k": 3, "metric": "l2"})
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["metric"] == "l2" and body["mode"] == "direct" and len(body["results"]) == 3


def test_form_encoded_data_url(client, gallery):
    response = client.post(SEARCH, {"image_data": data_url(tshirt_png()), "k": 2})
    assert response.status_code == 200 and len(response.json()["results"]) == 2


def test_modes_list_availability_and_the_default(client, gallery, settings):
    body = client.get(MODES).json()
    assert body["gallery"] == gallery.slug and body["default"] == settings.RETRIEVAL["DEFAULT_SKETCH_MODE"]
    assert [m["name"] for m in body["modes"]] == list(SKETCH_MODES)
    assert all(m["available"] and m["reason"] == "" and m["title"] and m["description"] for m in body["modes"])


def test_modes_of_an_unknown_gallery_is_a_400(client, gallery):
    body = assert_error(client.get(MODES, {"gallery": "nope"}), 400, "invalid_request")
    assert "nope" in body["detail"]


@pytest.fixture
def no_sketch_models(monkeypatch):
    """As before any sketch model is trained: only the descriptor-only mode can run."""
    monkeypatch.setattr("retrieval.sketch.services.sketch_models", lambda: SketchModels())


def test_untrained_modes_are_listed_with_why_and_refused_with_a_503(client, gallery, no_sketch_models):
    modes = {m["name"]: m for m in client.get(MODES).json()["modes"]}
    assert modes["direct"]["available"] and not modes["gan"]["available"] and not modes["encoder"]["available"]
    assert "train sketch_gan" in modes["gan"]["reason"] and "train sketch_encoder" in modes["encoder"]["reason"]
    body = assert_error(upload(client, tshirt_png(), mode="gan"), 503, "not_ready")
    assert "not trained yet" in body["detail"]
    ok = upload(client, tshirt_png(), mode="direct").json()
    assert ok["generated"] is None and len(ok["results"]) == 10


def test_the_schema_documents_both_endpoints(client, gallery):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    search = schema["paths"][SEARCH]["post"]
    assert {"200", "400", "413", "415", "503"} <= set(search["responses"])
    request = schema["components"]["schemas"]["SketchSearchRequest"]["properties"]
    assert {"image", "image_data", "mode", "k", "metric", "gallery"} <= set(request)
    response = schema["components"]["schemas"]["SketchSearchResponse"]["properties"]
    assert {"results", "generated", "sketch_view", "mode", "timings_ms"} <= set(response)
    assert "get" in schema["paths"][MODES]


# --- bad input ---------------------------------------------------------------------------

def test_a_blank_canvas_asks_to_draw_something_first(client, gallery):
    body = assert_error(upload(client, blank_png()), 400, "blank_sketch")
    assert "draw something first" in body["detail"]
    body = assert_error(post_json(client, {"image_data": data_url(blank_png())}), 400, "blank_sketch")
    assert "draw something first" in body["detail"]


def test_no_drawing_at_all_is_a_400(client, gallery):
    body = assert_error(client.post(SEARCH, {"k": 3}), 400, "invalid_request")
    assert "draw something first" in body["detail"]


@pytest.mark.parametrize("value", ["data:image/png;base64,@@not base64@@", "data:image/png;base64,abc", "%%%"])
def test_invalid_data_url_or_base64_is_a_400(client, gallery, value):
    body = assert_error(post_json(client, {"image_data": value}), 400, "invalid_request")
    assert "not valid base64" in body["detail"]


def test_valid_base64_that_is_not_an_image_is_a_400(client, gallery):
    body = assert_error(post_json(client, {"image_data": data_url(b"just some text")}), 400, "invalid_image")
    assert "not an image" in body["detail"]


def test_a_payload_over_the_size_limit_is_a_413(client, gallery, settings):
    too_big = "data:image/png;base64," + "A" * (settings.PORTAL_MAX_UPLOAD_BYTES * 4 // 3 + 8)
    assert_error(post_json(client, {"image_data": too_big}), 413, "upload_too_large")
    assert_error(upload(client, b"\x89PNG" + bytes(settings.PORTAL_MAX_UPLOAD_BYTES)), 413, "upload_too_large")


@pytest.mark.parametrize(("side", "message"), [(8000, "8000x8000 pixels, over the limit of 40 megapixels"),
                                               (100_000, "too large to decode safely")])
def test_a_sketch_of_absurd_dimensions_is_a_413(client, gallery, side, message):
    body = assert_error(upload(client, huge_header_png(side, side)), 413, "image_too_large")
    assert message in body["detail"]


def test_a_long_thin_sketch_under_the_pixel_limit_answers_quickly(client, gallery):
    data = long_thin_png()
    started = time.perf_counter()
    response = upload(client, data, mode="direct", k=3)
    assert response.status_code in (200, 400), response.content[:500]  # a readable bar, or "too faint"
    assert time.perf_counter() - started < 10  # shrunk before it is squared, never a 30000x30000 square


def test_an_unknown_mode_is_a_400_naming_the_modes(client, gallery):
    body = assert_error(upload(client, tshirt_png(), mode="telepathy"), 400, "invalid_request")
    assert body["fields"]["mode"] and "telepathy" in body["detail"] and "encoder, gan, direct" in body["detail"]


def test_svg_is_refused_with_a_415(client, gallery):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M0 0L9 9"/></svg>'
    assert_error(upload(client, svg, name="sketch.svg"), 415, "unsupported_image")


def test_a_json_list_is_a_400(client, gallery):
    assert_error(client.post(SEARCH, "[1, 2]", content_type="application/json"), 400, "parse_error")
