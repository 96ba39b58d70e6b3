"""A degraded query's link names the degradation, each parameter as the sliders name it, the
seed and the descriptor; it renders the same rows; the page and the endpoint export CSV with
a leading ``row`` column."""

import json

import pytest

from tests.conftest import data_url
from tests.support.queries import csv_rows, query_state, result_links
from tests.support.sockets import connect, receive_until_done

pytestmark = pytest.mark.django_db
URL = "/degraded/"


def test_an_example_link_names_every_setting_and_reproduces_the_rows(client, degraded_gallery):
    example = degraded_gallery.images.filter(split="test").first()
    params = {"example": example.pk, "degradation": "gaussian", "gaussian-sigma": "0.3", "seed": 4, "k": 3}
    first = client.get(URL, params).content.decode()
    state = query_state(first)
    for part in (f"example={example.pk}", "degradation=gaussian", "gaussian-sigma=0.3", "seed=4",
                 "descriptor=standard", "k=3"):
        assert part in state["link"]
    again = client.get(state["link"]).content.decode()
    assert result_links(again) == result_links(first) and len(result_links(first)) == 9  # three rows of three


def test_a_posted_upload_is_stored_and_its_link_runs(client, degraded_gallery, query_png):
    from django.core.files.uploadedfile import SimpleUploadedFile

    posted = client.post(URL, {"image": SimpleUploadedFile("q.png", query_png), "degradation": "jpeg",
                               "jpeg-quality": "10", "k": 2}).content.decode()
    state = query_state(posted)
    assert "q=" in state["link"] and "jpeg-quality=10" in state["link"]
    assert result_links(client.get(state["link"]).content.decode()) == result_links(posted)


def test_the_endpoint_and_the_page_export_csv_with_the_row(client, degraded_gallery, query_png):
    body = {"image_data": data_url(query_png), "degradation": "salt_pepper", "k": 4}
    rows = csv_rows(client.post("/api/degraded/?format=csv", body))
    assert list(rows[0])[0] == "row" and [row["row"] for row in rows] == ["original"] * 4 + ["degraded"] * 4 + [
        "enhanced"] * 4
    assert [int(row["rank"]) for row in rows[:4]] == [1, 2, 3, 4]
    example = degraded_gallery.images.filter(split="test").first()
    page = csv_rows(client.get(URL, {"example": example.pk, "k": 2, "format": "csv"}))
    assert len(page) == 6 and page[0]["row"] == "original"


def test_parameter_messages_name_the_parameters(client, degraded_gallery, query_png):
    body = {"image_data": data_url(query_png), "degradation": "gaussian", "gaussian-sigma": "7"}
    assert "Parameters: " in client.post(URL, body).content.decode()


async def test_a_streamed_degraded_query_carries_its_link(degraded_gallery):
    from channels.db import database_sync_to_async

    example = await database_sync_to_async(lambda: degraded_gallery.images.filter(split="test").first())()
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "degrade", "example": example.pk, "k": 2,
                                                     "degradation": "speckle", "params": {"amount": 0.5}}))
    state = query_state((await receive_until_done(communicator))[0])
    assert f"example={example.pk}" in state["link"] and "speckle-amount=0.5" in state["link"]
    assert state["query-image"] == example.file.url
    await communicator.disconnect()
