"""The OpenAPI schema at /api/schema/: every endpoint summarised and described for API users,
uploads binary, CSV documented on the query endpoints; Swagger UI leads back to the portal."""

import json

import pytest

pytestmark = pytest.mark.django_db
UPLOADS = ("/api/search/", "/api/sketch/search/", "/api/degraded/")


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        return json.loads(Client().get("/api/schema/", {"format": "json"}).content)


def component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize("path", UPLOADS)
def test_uploads_are_binary_and_csv_is_offered(schema, path):
    operation = schema["paths"][path]["post"]
    multipart = component(schema, operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"])
    assert multipart["properties"]["image"]["type"] == "string"
    assert multipart["properties"]["image"]["format"] == "binary"
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert any(p["name"] == "format" and p["in"] == "query" for p in operation["parameters"])


def test_every_operation_has_a_summary_and_a_description(schema):
    paths = schema["paths"]
    assert {"/api/galleries/", "/api/images/{id}/neighbours/", "/api/training/runs/", *UPLOADS} <= set(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("description"), f"{method.upper()} {path} has no description"


def test_descriptions_carry_no_developer_notes(schema):
    text = json.dumps(schema)
    for note in ("``", "Schema only", "retrieval.", "services.", "Serializer", "JSON only, errors included"):
        assert note not in text, note


def test_swagger_ui_leads_back_to_the_portal(client, schema):
    assert "[Back to the portal](/)" in schema["info"]["description"]
    assert schema["externalDocs"]["url"] == "/"
    assert client.get("/api/docs/").status_code == 200
