"""Every image query is a link: a GET with ``example=`` or ``q=`` reproduces a posted query,
the results carry their link state, and the page and the API export CSV."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import data_url
from tests.support.queries import csv_rows, query_state, result_links
from tests.support.sockets import connect, receive_until_done

pytestmark = pytest.mark.django_db


def post_upload(client, data: bytes, **fields):
    return client.post(reverse("retrieval:search"), {"k": 6, "metric": "l2", **fields,
                                                     "image": SimpleUploadedFile("q.png", data)})


def test_an_upload_gets_a_link_that_reproduces_it(client, gallery, query_png):
    posted = post_upload(client, query_png).content.decode()
    state = query_state(posted)
    assert state["link"].startswith("/?q=") and "k=6" in state["link"] and "metric=l2" in state["link"]
    assert state["csv"] == state["link"] + "&format=csv"
    assert state["query-image"].startswith("/queries/")
    linked = client.get(state["link"])
    assert linked.status_code == 200
    assert result_links(linked.content.decode()) == result_links(posted) and len(result_links(posted)) == 6
    image = client.get(state["query-image"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content == query_png


def test_an_example_link_renders_the_same_results_as_posting_the_example(client, gallery):
    example = gallery.images.filter(split="test").order_by("source_index").first()
    with example.file.open("rb") as f:
        posted = post_upload(client, f.read(), k=5, metric="cosine").content.decode()
    linked = client.get(reverse("retrieval:search"), {"example": example.pk, "k": 5, "metric": "cosine"})
    html = linked.content.decode()
    assert result_links(html) == result_links(posted)
    state = query_state(html)
    assert state["link"] == f"/?example={example.pk}&k=5&metric=cosine&gallery={gallery.slug}&descriptor=standard"
    assert state["query-image"] == example.file.url


def test_the_page_without_a_query_has_an_empty_state(client, gallery):
    assert query_state(client.get("/").content.decode()) == {"link": "", "csv": "", "query-image": ""}


def test_an_htmx_post_carries_the_state_out_of_band(client, gallery, query_png):
    response = client.post("/", {"k": 3, "image": SimpleUploadedFile("q.png", query_png)}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="query-state" hx-swap-oob="true"' in html and query_state(html)["link"].startswith("/?q=")


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"q": "0" * 24}, 404, "expired"),
    ({"q": "../../etc/passwd"}, 400, "malformed"),
    ({"example": 10**9}, 404, "no gallery image"),
])
def test_a_dead_link_is_a_4xx_page_that_says_why(client, gallery, params, status, message):
    response = client.get("/", params)
    assert response.status_code == status and message in response.content.decode()


def test_a_page_link_exports_csv(client, gallery):
    example = gallery.images.filter(split="test").first()
    rows = csv_rows(client.get("/", {"example": example.pk, "k": 4, "format": "csv"}))
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4]
    assert all(row["image_url"].startswith("http://testserver/media/") for row in rows)
    assert float(rows[0]["distance"]) <= float(rows[-1]["distance"])


def test_the_api_exports_csv_and_names_the_page_that_reproduces_it(client, gallery, query_png):
    response = client.post("/api/search/?format=csv", {"k": 7, "image": SimpleUploadedFile("q.png", query_png)})
    rows = csv_rows(response)
    assert len(rows) == 7 and rows[0]["class_name"]
    json_body = client.post("/api/search/", {"k": 7, "image": SimpleUploadedFile("q.png", query_png)}).json()
    assert [int(row["id"]) for row in rows] == [result["id"] for result in json_body["results"]]
    assert "/?q=" in response["Link"]


def test_a_csv_request_with_bad_input_gets_the_json_error(client, gallery):
    response = client.post("/api/search/?format=csv", {"k": 0})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["fields"]["k"]


def test_page_messages_name_the_field(client, gallery, query_png):
    html = post_upload(client, query_png, k=1000).content.decode()
    assert "Results (k): Ensure this value is less than or equal to 100." in html


async def test_the_websocket_header_carries_the_link_and_a_stored_query_runs_again(gallery, query_png):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 3}))
    first = (await receive_until_done(communicator))[0]
    state = query_state(first)
    query_id = state["link"].split("q=")[1].split("&")[0]
    await communicator.send_to(text_data=json.dumps({"type": "search", "q": query_id, "k": 2}))
    again = await receive_until_done(communicator)
    assert "2 results" in again[-1] and query_state(again[0])["query-image"] == f"/queries/{query_id}/"
    await communicator.send_to(text_data=json.dumps({"type": "search", "q": "f" * 24}))
    assert "expired" in await communicator.receive_from(timeout=20)
    await communicator.disconnect()


async def test_websocket_messages_name_the_field(gallery, query_png):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 0}))
    assert "Results (k): Ensure this value is greater than or equal to 1." in await communicator.receive_from(timeout=20)
    await communicator.disconnect()
