"""A drawing's link: posted or sent over the websocket, it is stored, and its link renders the
same results (with the mode); the sketch endpoint exports CSV; the evaluation prepares its pairs."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import DATASET_MISSING, tiny_checkpoint
from tests.support.queries import csv_rows, query_state, result_links
from tests.support.sketches import data_url, tshirt_png
from tests.support.sockets import connect, receive_until_done

URL = "/sketch/"


@pytest.mark.django_db
def test_a_drawing_link_reproduces_the_query_with_its_mode(client, gallery):
    posted = client.post(URL, {"image_data": data_url(tshirt_png()), "mode": "direct", "k": 5}).content.decode()
    state = query_state(posted)
    assert state["link"].startswith("/sketch/?q=") and "mode=direct" in state["link"]
    linked = client.get(state["link"])
    html = linked.content.decode()
    assert linked.status_code == 200 and result_links(html) == result_links(posted) and len(result_links(html)) == 5
    assert 'value="direct" checked' in html  # the linked mode is the one shown
    assert client.get(state["query-image"]).content == tshirt_png()  # the drawing, to put back on the canvas


@pytest.mark.django_db
def test_the_sketch_endpoint_and_page_link_export_csv(client, gallery):
    rows = csv_rows(client.post("/api/sketch/search/?format=csv", {"image_data": data_url(tshirt_png()), "k": 4}))
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4]
    link = query_state(client.post(URL, {"image_data": data_url(tshirt_png()), "k": 4}).content.decode())["csv"]
    assert [row["id"] for row in csv_rows(client.get(link))] == [row["id"] for row in rows]


@pytest.mark.django_db
async def test_a_streamed_drawing_carries_its_link(gallery):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "sketch", "image": data_url(tshirt_png()), "k": 3,
                                                     "mode": "encoder"}))
    first = (await receive_until_done(communicator))[0]
    state = query_state(first)
    assert state["link"].startswith("/sketch/?q=") and "mode=encoder" in state["link"]
    await communicator.disconnect()


@pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)")
def test_the_evaluation_makes_the_sketch_pairs_it_is_missing(settings, tmp_path, capsys):
    tiny_checkpoint()
    settings.RETRIEVAL = {**settings.RETRIEVAL, "DATASETS": {"sketch-pairs": tmp_path}}
    out = StringIO()
    call_command("evaluate", "sketch", "--json", "--queries", "12", "--gallery-size", "50", "--edges", "canny",
                 "--mode", "direct", stdout=out)
    report = json.loads(out.getvalue())  # stdout is one JSON object: the bar went to stderr
    assert report["queries"] == 12 and "P@5" in report["modes"]["direct"]["sketch_canny"]
    assert (tmp_path / "canny-test.npz").is_file()
    assert "canny test" in capsys.readouterr().err
