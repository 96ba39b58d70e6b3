"""The search websocket through Channels' WebsocketCommunicator and the real ASGI stack."""

import json

import pytest
from channels.testing import WebsocketCommunicator

from portal.asgi import application
from tests.conftest import data_url
from tests.support.sockets import connect, receive_until_done

pytestmark = pytest.mark.django_db(transaction=False)


async def test_results_stream_card_by_card(gallery, query_png):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 5, "metric": "cosine"}))
    messages = await receive_until_done(communicator)
    first, cards, last = messages[0], messages[1:-1], messages[-1]
    assert 'id="search-results"' in first and 'hx-swap-oob="true"' in first and "what the network sees" in first
    assert len(cards) == 5
    assert all('hx-swap-oob="beforeend"' in card and 'class="result-card"' in card for card in cards)
    assert [f'data-rank="{i}"' in card for i, card in enumerate(cards, start=1)] == [True] * 5
    assert "5 results" in last and "server time" in last
    await communicator.disconnect()


@pytest.mark.parametrize(("payload", "message"), [
    ({"type": "search", "image": "data:image/png;base64,@@@"}, "not valid base64"),
    ({"type": "search", "image": data_url(b"not an image")}, "not an image"),
    ({"type": "search"}, "Choose or drop an image"),
    ({"type": "search", "image": "x", "k": 0}, "greater than or equal to 1"),
    ({"type": "dance"}, "Unknown message"),
])
async def test_bad_messages_get_readable_errors_and_the_socket_stays_open(gallery, query_png, payload, message):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps(payload))
    reply = await communicator.receive_from(timeout=20)
    assert 'id="form-errors"' in reply and message in reply
    # still usable afterwards
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 2}))
    assert "2 results" in (await receive_until_done(communicator))[-1]
    await communicator.disconnect()


async def test_malformed_json_is_answered_not_fatal(gallery):
    communicator = await connect()
    await communicator.send_to(text_data="{not json")
    assert "Unknown message" in await communicator.receive_from(timeout=20)
    await communicator.disconnect()


async def test_a_flood_of_queries_only_searches_the_newest(gallery, query_png):
    communicator = await connect()
    for k in range(1, 21):
        await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": k}))
    messages = await receive_until_done(communicator, limit=200)
    # Superseded queries stop streaming; the final summary is the newest query's.
    assert "20 results" in messages[-1]
    headers = [m for m in messages if 'id="search-results"' in m]
    assert len(headers) < 20
    await communicator.disconnect()


async def test_socket_without_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/search/")
    connected, _ = await communicator.connect()
    assert not connected


async def test_an_example_query_marks_results_of_its_true_class(gallery, query_png):
    from channels.db import database_sync_to_async

    example = await database_sync_to_async(lambda: gallery.images.filter(split="test").order_by("source_index").first())()
    communicator = await connect()
    message = {"type": "search", "image": data_url(query_png), "k": 5, "example": example.pk}
    await communicator.send_to(text_data=json.dumps(message))
    messages = await receive_until_done(communicator)
    assert "true class" in messages[0]
    assert any('class="match"' in card for card in messages[1:-1])  # the tiny model still finds some of its class
    await communicator.disconnect()


async def test_the_pixel_limit_applies_over_the_websocket_too(gallery, query_png, settings):
    settings.RETRIEVAL = {**settings.RETRIEVAL, "MAX_PIXELS": 100}  # the query is 28x28 = 784 pixels
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png)}))
    reply = await communicator.receive_from(timeout=20)
    assert 'id="form-errors"' in reply and "over the limit" in reply
    await communicator.disconnect()
