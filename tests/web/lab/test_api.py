"""`/api/lab/` (JSON and CSV) and the embedding map `/api/lab/embedding/` on a tiny colour gallery."""

import csv
import io

import pytest
from django.urls import reverse
from PIL import Image

from retrieval.lab.embeddings import embedding_path
from retrieval.lab.services import lab_index_path
from tests.conftest import data_url

COLUMNS = ["gap", "conv", "fc", "fc_conv", "hist"]


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_a_gallery_image_by_id_answers_every_column_as_json(client, colour_gallery):
    example = colour_gallery.images.filter(label=1).order_by("id").first()
    response = client.post(reverse("api:lab"), {"example": example.pk, "gallery": "tiny-colour", "k": 4},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["gallery"] == "tiny-colour" and body["query_id"] == example.pk and body["metric"] == "l1"
    assert [c["descriptor"] for c in body["columns"]] == COLUMNS
    for column in body["columns"]:
        assert len(column["results"]) == 4 and example.pk not in [r["id"] for r in column["results"]]
        assert column["precision"] is not None and len(column["query_xy"]) == 2
    significance = body["significance"]
    assert significance["significant"] == len(significance["cells"]) >= 1 and significance["overlay"].startswith("data:image/png")
    assert 'rel="alternate"' in response["Link"]  # the page that reproduces the query


@pytest.mark.slow
def test_an_upload_answers_csv_one_row_per_result_with_its_descriptor(client, colour_gallery):
    response = client.post(reverse("api:lab") + "?format=csv",
                           {"image_data": data_url(_png((200, 30, 30))), "gallery": "tiny-colour", "k": 3, "metric": "cosine"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 3 * len(COLUMNS) and [r["descriptor"] for r in rows[::3]] == COLUMNS
    assert rows[0]["rank"] == "1" and rows[0]["class_name"] in ("reds", "blues")


@pytest.mark.parametrize("payload, field", [
    ({"image_data": "not base64 !!"}, "image"),
    ({}, "image"),
    ({"example": 999999}, "example"),
    ({"metric": "manhattan"}, "metric"),
    ({"k": 0}, "k"),
    ({"k": 10_000}, "k"),
    ({"gallery": "no-such-gallery"}, "gallery"),
])
def test_bad_input_is_a_400_naming_the_field(client, colour_gallery, payload, field):
    data = {"gallery": "tiny-colour", "image_data": data_url(_png((0, 0, 0))), **payload}
    if not payload or "example" in payload:
        data.pop("image_data")
    response = client.post(reverse("api:lab"), data, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request" and field in response.json()["fields"]


def test_an_image_of_another_gallery_is_a_400(client, colour_gallery, tmp_path):
    from retrieval.galleries.folders import gallery_import_folder

    (tmp_path / "other").mkdir()
    Image.new("RGB", (20, 20), (9, 9, 9)).save(tmp_path / "other" / "a.png")
    other = gallery_import_folder(folder=tmp_path, slug="other-colour").gallery.images.first()
    response = client.post(reverse("api:lab"), {"example": other.pk, "gallery": "tiny-colour"}, content_type="application/json")
    assert response.status_code == 400 and "other-colour" in response.json()["detail"]


def test_a_json_list_is_a_400(client, colour_gallery):
    response = client.post(reverse("api:lab"), [1, 2], content_type="application/json")
    assert response.status_code == 400


@pytest.mark.slow
def test_the_embedding_map_is_fitted_once_stored_and_places_the_query(client, colour_gallery):
    url = reverse("api:lab-embedding")
    for descriptor in COLUMNS:  # another test's indexes of the same slug
        lab_index_path("tiny-colour", "efficientnet_lite0", descriptor).unlink(missing_ok=True)
    assert client.get(url, {"gallery": "tiny-colour"}).status_code == 409  # not indexed yet: no build on a GET
    response = client.post(reverse("api:lab"), {"image_data": data_url(_png((30, 30, 200))), "gallery": "tiny-colour"},
                           content_type="application/json")
    placed = {c["descriptor"]: c["query_xy"] for c in response.json()["columns"]}
    for descriptor in COLUMNS:
        body = client.get(url, {"gallery": "tiny-colour", "descriptor": descriptor}).json()
        assert body["method"] == "pca" and body["points"] == body["gallery_items"] == 16
        assert len(body["x"]) == len(body["y"]) == len(body["id"]) == len(body["label"]) == 16
        assert set(body["classes"].values()) == {"reds", "blues"} and len(placed[descriptor]) == 2
        assert embedding_path("tiny-colour", "efficientnet_lite0", descriptor).exists()
    path = embedding_path("tiny-colour", "efficientnet_lite0", "fc_conv")
    stamp = path.stat().st_mtime_ns
    assert client.get(url, {"gallery": "tiny-colour"}).json()["descriptor"] == "fc_conv"
    assert path.stat().st_mtime_ns == stamp  # served from the stored map, not fitted again
    assert lab_index_path("tiny-colour", "efficientnet_lite0", "fc_conv").exists()


def test_the_embedding_map_refuses_bad_parameters(client, colour_gallery):
    url = reverse("api:lab-embedding")
    assert client.get(url, {"gallery": "tiny-colour", "descriptor": "nope"}).status_code == 400
    assert client.get(url, {"gallery": "Not a slug!"}).status_code == 400
    response = client.get(url, {"gallery": "missing"})
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_the_schema_describes_the_lab_endpoints(client):
    schema = client.get(reverse("api:schema") + "?format=json").json()
    assert "/api/lab/" in schema["paths"] and "/api/lab/embedding/" in schema["paths"]
    assert "csv" in str(schema["paths"]["/api/lab/"]["post"]["parameters"])
