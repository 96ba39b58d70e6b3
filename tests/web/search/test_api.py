"""The JSON API against the tiny indexed gallery: search, browsing, neighbours, schema,
and the error shape of every bad input."""

import base64
import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from retrieval.models import Gallery, GalleryImage
from tests.conftest import png_bytes

SEARCH = "/api/search/"
RESULT_KEYS = {"rank", "id", "label", "label_name", "distance", "histogram_distance", "image_url", "detail_url", "api_url"}


def search(client, data: bytes | None, name: str = "query.png", **fields):
    payload = {**fields}
    if data is not None:
        payload["image"] = SimpleUploadedFile(name, data)
    return client.post(SEARCH, payload)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10 and body["detail"].endswith((".", "?")), body
    return body


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(size=(32, 32), channels=3, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, channels) if channels > 1 else size, dtype=np.uint8)


# --- search: happy paths ---------------------------------------------------------------

def test_search_returns_k_sorted_results_with_absolute_links(client, gallery, query_png):
    response = search(client, query_png, k=7, metric="l2")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["gallery"] == gallery.slug and body["k"] == 7 and body["metric"] == "l2"
    assert body["checkpoint_id"] and {"decode", "describe", "search"} <= set(body["timings_ms"])
    assert body["search"] == "exact"  # a tiny gallery: no HNSW graph
    assert body["query"] == {"width": 28, "height": 28, "format": "PNG", "frames": 1, "colour": False,
                             "inverted": body["query"]["inverted"], "found": True, "confidence": 1.0,
                             "bbox": body["query"]["bbox"]}
    assert body["descriptor"] in ("standard", "photo")
    assert body["unsure"] is None or set(body["unsure"]) == {"unsure", "score", "reason"}  # None until calibrated
    results = body["results"]
    assert [r["rank"] for r in results] == list(range(1, 8))
    assert all(set(r) == RESULT_KEYS for r in results)
    distances = [r["distance"] for r in results]
    assert distances == sorted(distances)
    assert all(r["label_name"] in gallery.class_names and r["label_name"] == gallery.class_names[r["label"]] for r in results)
    assert all(r["histogram_distance"] >= 0 for r in results)
    first = results[0]
    for key in ("image_url", "detail_url", "api_url"):
        assert first[key].startswith("http://testserver/"), first[key]
    assert first["detail_url"].endswith(reverse("retrieval:image", args=[gallery.slug, first["id"]]))
    assert client.get(first["image_url"]).status_code == 200
    assert client.get(first["api_url"]).json()["id"] == first["id"]


def test_search_defaults_to_ten_results_by_cosine(client, gallery, query_png):
    body = search(client, query_png).json()
    assert body["k"] == 10 and body["metric"] == "cosine" and len(body["results"]) == 10


def test_cosine_distances_lie_between_0_and_2(client, gallery, query_png):
    body = search(client, query_png, k=20, metric="cosine").json()
    distances = [r["distance"] for r in body["results"]]
    assert body["metric"] == "cosine" and len(distances) == 20
    assert all(-1e-5 <= d <= 2 + 1e-5 for d in distances) and distances == sorted(distances)


def test_search_by_data_url(client, gallery, query_png):
    data_url = "data:image/png;base64," + base64.b64encode(query_png).decode()
    response = client.post(SEARCH, {"image_data": data_url, "k": 3})
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    same = search(client, query_png, k=3).json()
    assert [r["id"] for r in response.json()["results"]] == [r["id"] for r in same["results"]]


def test_search_by_json_body(client, gallery, query_png):
    data_url = "data:image/png;base64," + base64.b64encode(query_png).decode()
    response = client.post(SEARCH, {"image_data": data_url, "k": 4, "metric": "cosine", "gallery": gallery.slug},
                           content_type="application/json")
    assert response.status_code == 200 and len(response.json()["results"]) == 4


def _animated_gif() -> bytes:
    frames = [Image.fromarray(noise(seed=s)).convert("P") for s in (1, 2)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _rgba_png() -> bytes:
    pixels = noise(channels=4)
    pixels[..., 3] = np.where(np.arange(32) < 16, 0, 255)[None, :]  # left half transparent
    return png_bytes(pixels, "RGBA")


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    return encoded(Image.fromarray(noise((20, 40))), "JPEG", exif=exif)


ODD_IMAGES = {  # name -> (bytes, expected query summary subset)
    "animated gif": (_animated_gif, {"format": "GIF", "frames": 2, "colour": True}),
    "rgba png": (_rgba_png, {"format": "PNG", "colour": True}),
    "palette png": (lambda: encoded(Image.fromarray(noise()).convert("P"), "PNG"), {"format": "PNG", "colour": True}),
    "cmyk jpeg": (lambda: encoded(Image.new("CMYK", (24, 24), (0, 128, 200, 10)), "JPEG"), {"format": "JPEG", "colour": True}),
    "16-bit grey png": (lambda: png_bytes((np.arange(32 * 32, dtype=np.uint16) * 60).reshape(32, 32)),
                        {"format": "PNG", "colour": False}),
    "exif-rotated jpeg": (_exif_rotated_jpeg, {"format": "JPEG", "width": 20, "height": 40}),
    "1x1 png": (lambda: png_bytes(np.full((1, 1), 200, np.uint8)), {"width": 1, "height": 1, "colour": False}),
}


@pytest.mark.parametrize("name", ODD_IMAGES)
def test_odd_but_valid_images_are_searched(client, gallery, name):
    make, expected = ODD_IMAGES[name]
    response = search(client, make(), k=3)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert len(body["results"]) == 3
    assert expected.items() <= body["query"].items(), body["query"]


def test_16_bit_png_really_is_16_bit():
    data = ODD_IMAGES["16-bit grey png"][0]()
    assert Image.open(io.BytesIO(data)).mode.startswith("I")


# --- search: bad input ----------------------------------------------------------------

SVG = (b'<?xml version="1.0"?>\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')

BAD_SEARCHES = {  # name -> (request fields, status, error code, field named in "fields" or None)
    "non-image bytes": (lambda png: {"image": SimpleUploadedFile("q.png", b"just some text, not pixels")},
                        400, "invalid_image", None),
    "truncated png": (lambda png: {"image": SimpleUploadedFile("q.png", png[: len(png) // 2])}, 400, "invalid_image", None),
    "empty file": (lambda png: {"image": SimpleUploadedFile("q.png", b"")}, 400, "invalid_request", "image"),
    "missing image": (lambda png: {"k": 5}, 400, "invalid_request", "image"),
    "svg": (lambda png: {"image": SimpleUploadedFile("q.svg", SVG, "image/svg+xml")}, 415, "unsupported_image", None),
    "bad data url": (lambda png: {"image_data": "data:image/png;base64,@@not-base64@@"}, 400, "invalid_request", "image"),
    "k=0": (lambda png: {"image": SimpleUploadedFile("q.png", png), "k": 0}, 400, "invalid_request", "k"),
    "k=101": (lambda png: {"image": SimpleUploadedFile("q.png", png), "k": 101}, 400, "invalid_request", "k"),
    "k=abc": (lambda png: {"image": SimpleUploadedFile("q.png", png), "k": "abc"}, 400, "invalid_request", "k"),
    "metric=manhattan": (lambda png: {"image": SimpleUploadedFile("q.png", png), "metric": "manhattan"},
                         400, "invalid_request", "metric"),
    "unknown gallery": (lambda png: {"image": SimpleUploadedFile("q.png", png), "gallery": "no-such-gallery"},
                        400, "invalid_request", "gallery"),
}


@pytest.mark.parametrize("name", BAD_SEARCHES)
def test_bad_search_input_is_a_json_4xx_and_changes_nothing(client, gallery, query_png, name):
    make, status, code, field = BAD_SEARCHES[name]
    before = GalleryImage.objects.count()
    body = assert_error(client.post(SEARCH, make(query_png)), status, code)
    if field:
        assert field in body["fields"], body
    assert GalleryImage.objects.count() == before


def test_image_over_the_pixel_limit_is_413(client, gallery, settings):
    settings.RETRIEVAL = {**settings.RETRIEVAL, "MAX_PIXELS": 5_000}
    body = assert_error(search(client, png_bytes(noise((100, 100)))), 413, "image_too_large")
    assert "100x100" in body["detail"]


def test_body_over_the_upload_limit_is_413(client, gallery):
    body = assert_error(search(client, b"\0" * (3 * 1024 * 1024)), 413, "upload_too_large")
    assert "MB" in body["detail"]


def test_file_over_the_limit_in_a_body_under_it_is_413(client, gallery, settings):
    # Small enough to pass the middleware's body check, so the form's own check answers.
    file_size = settings.PORTAL_MAX_UPLOAD_BYTES + 64 * 1024
    assert file_size < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert_error(search(client, b"\0" * file_size), 413, "upload_too_large")


@pytest.mark.parametrize("body", ["[1, 2]", "{not json"])
def test_malformed_json_is_400(client, gallery, body):
    assert_error(client.post(SEARCH, body, content_type="application/json"), 400, "parse_error")


def test_gallery_without_an_index_is_503(client, gallery, query_png):
    Gallery.objects.create(slug="unindexed", name="Unindexed", class_names=["a"])
    assert_error(search(client, query_png, gallery="unindexed"), 503, "not_ready")


def test_wrong_method_is_405_json(client, gallery):
    body = assert_error(client.get(SEARCH), 405, "method_not_allowed")
    assert "GET" in body["detail"]
    assert_error(client.delete(reverse("api:galleries")), 405, "method_not_allowed")
    # Browsers get JSON too, not the browsable API's HTML.
    assert_error(client.get(SEARCH, headers={"Accept": "text/html,*/*;q=0.8"}), 405, "method_not_allowed")


# --- galleries and images -------------------------------------------------------------

def test_gallery_list_and_detail(client, gallery):
    listed = client.get(reverse("api:galleries")).json()
    entry = next(g for g in listed if g["slug"] == gallery.slug)
    assert entry["name"] == gallery.name and entry["class_names"] == gallery.class_names
    assert entry["image_count"] == gallery.images.count() > 0
    assert entry["images_url"] == "http://testserver" + reverse("api:gallery-images", args=[gallery.slug])
    assert client.get(entry["url"]).json() == entry


def test_unknown_gallery_and_image_are_404_json(client, gallery):
    assert_error(client.get(reverse("api:gallery", args=["no-such-gallery"])), 404, "not_found")
    assert_error(client.get(reverse("api:gallery-images", args=["no-such-gallery"])), 404, "not_found")
    assert str(10**9) in assert_error(client.get(reverse("api:image", args=[10**9])), 404, "not_found")["detail"]
    assert_error(client.get(reverse("api:image-neighbours", args=[10**9])), 404, "not_found")
    assert_error(client.get("/api/images/not-a-number/"), 404, "not_found")
    assert "/api/search/" in assert_error(client.get("/api/search"), 404, "not_found")["detail"]


def test_image_list_pages_fifty_at_a_time(client, gallery):
    url = reverse("api:gallery-images", args=[gallery.slug])
    first = client.get(url).json()
    train = gallery.images.filter(split="train").count()
    assert first["count"] == train and len(first["results"]) == 50 and first["previous"] is None
    assert all(image["split"] == "train" and image["gallery"] == gallery.slug for image in first["results"])
    second = client.get(first["next"]).json()
    assert {i["id"] for i in second["results"]}.isdisjoint(i["id"] for i in first["results"])
    tests = client.get(url, {"split": "test", "page": 2}).json()
    assert tests["count"] == gallery.images.filter(split="test").count()
    assert all(image["split"] == "test" for image in tests["results"])
    assert_error(client.get(url, {"page": 999}), 404, "not_found")


def test_image_list_filters_by_label(client, gallery):
    url = reverse("api:gallery-images", args=[gallery.slug])
    body = client.get(url, {"label": 3, "split": "test"}).json()
    assert body["count"] == gallery.images.filter(split="test", label=3).count() > 0
    assert all(image["label"] == 3 and image["label_name"] == gallery.class_names[3] for image in body["results"])
    assert client.get(url, {"label": ""}).json()["count"] == gallery.images.filter(split="train").count()


@pytest.mark.parametrize("params, field, hint", [
    ({"split": "validation"}, "split", "train, test"),
    ({"label": 10}, "label", "9=Ankle boot"),
    ({"label": -1}, "label", "0=T-shirt/top"),
    ({"label": "abc"}, "label", "0=T-shirt/top"),
])
def test_image_list_rejects_bad_split_or_label_with_the_valid_values(client, gallery, params, field, hint):
    body = assert_error(client.get(reverse("api:gallery-images", args=[gallery.slug]), params), 400, "invalid_request")
    assert field in body["fields"] and hint in body["detail"], body


def test_image_detail(client, gallery):
    image = gallery.images.filter(split="test").first()
    body = client.get(reverse("api:image", args=[image.pk])).json()
    assert body["id"] == image.pk and body["split"] == "test" and body["label_name"] == image.label_name
    assert body["width"] == body["height"] == 28
    assert body["detail_url"] == "http://testserver" + image.get_absolute_url()


# --- neighbours -----------------------------------------------------------------------

@pytest.mark.parametrize("split", ["train", "test"])
def test_neighbours_exclude_the_image_and_honour_k(client, gallery, split):
    image = gallery.images.filter(split=split).first()
    response = client.get(reverse("api:image-neighbours", args=[image.pk]), {"k": 6, "metric": "cosine"})
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["image"]["id"] == image.pk and body["k"] == 6 and body["metric"] == "cosine"
    results = body["results"]
    assert len(results) == 6 and image.pk not in {r["id"] for r in results}
    assert all(set(r) == RESULT_KEYS for r in results)
    assert [r["distance"] for r in results] == sorted(r["distance"] for r in results)
    assert all(r["histogram_distance"] >= 0 for r in results)


@pytest.mark.parametrize("params, field", [({"k": 0}, "k"), ({"k": "many"}, "k"), ({"metric": "hamming"}, "metric")])
def test_neighbours_reject_bad_parameters(client, gallery, params, field):
    image = gallery.images.first()
    body = assert_error(client.get(reverse("api:image-neighbours", args=[image.pk]), params), 400, "invalid_request")
    assert field in body["fields"]


# --- schema and docs ------------------------------------------------------------------

def test_schema_is_openapi_3_with_the_search_endpoint(client, db):
    yaml_text = client.get(reverse("api:schema")).content.decode()
    assert yaml_text.startswith("openapi: 3") and "/api/search/:" in yaml_text
    schema = json.loads(client.get(reverse("api:schema"), {"format": "json"}).content)
    assert schema["openapi"].startswith("3.")
    search_op = schema["paths"]["/api/search/"]["post"]
    assert "multipart/form-data" in search_op["requestBody"]["content"]
    assert {"200", "400", "413", "415"} <= set(search_op["responses"])


def test_docs_page_serves_swagger_ui_without_a_cdn(client, db):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and reverse("api:schema") in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_results_are_the_shape_their_serializer_fields_describe(rf, gallery, query_png, settings):
    """The fast ``to_representation`` builds what the declared fields (the schema) would."""
    from rest_framework.serializers import Serializer

    from retrieval.core.serializers import ResultSerializer
    from retrieval.search.services import image_search

    settings.ALLOWED_HOSTS = ["portal.example"]
    outcome = image_search(gallery=gallery, data=query_png, k=4, metric="cosine")
    request = rf.get("/", HTTP_HOST="portal.example:8443", secure=True)
    serializer = ResultSerializer(outcome.results, many=True, context={"request": request})
    by_fields = [Serializer.to_representation(serializer.child, item) for item in outcome.results]
    assert serializer.data == by_fields
    assert by_fields[0]["detail_url"].startswith("https://portal.example:8443/galleries/")


def test_a_response_with_shallow_copied_fields_is_what_deep_copied_fields_make(rf, gallery, query_png, settings):
    """``ResponseSerializer`` copies its fields shallowly per response: the body is the same as
    with DRF's deep copies, twice over (nothing a response binds leaks into the next)."""
    from rest_framework.serializers import Serializer

    from retrieval.search.serializers import SearchResponseSerializer
    from retrieval.search.services import image_search

    settings.ALLOWED_HOSTS = ["portal.example"]
    outcome = image_search(gallery=gallery, data=query_png, k=3, metric="l2")
    request = rf.get("/", HTTP_HOST="portal.example")

    class DeepCopied(SearchResponseSerializer):
        get_fields = Serializer.get_fields

    expected = DeepCopied(outcome, context={"request": request}).data
    assert SearchResponseSerializer(outcome, context={"request": request}).data == expected
    assert SearchResponseSerializer(outcome, context={"request": request}).data == expected
    assert expected["results"][0]["image_url"].startswith("http://portal.example/")


def test_reverse_id_is_reverse(gallery):
    from retrieval.core.links import reverse_id

    for pk in (1, 7, 918, 123456):
        assert reverse_id("retrieval:image", gallery.slug, pk=pk) == reverse("retrieval:image", args=[gallery.slug, pk])
        assert reverse_id("api:image", pk=pk) == reverse("api:image", args=[pk])
