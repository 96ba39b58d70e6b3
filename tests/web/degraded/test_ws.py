"""Degraded queries over the search websocket: three rows stream in, and a slider sweep only
searches the newest setting."""

import json
import re

import pytest

from tests.conftest import data_url
from tests.support.sockets import connect, receive_until_done

pytestmark = pytest.mark.django_db(transaction=False)


def degrade_message(png: bytes, **fields) -> str:
    return json.dumps({"type": "degrade", "image": data_url(png), "degradation": "gaussian", "k": 3, **fields})


async def test_three_rows_stream_card_by_card(degraded_gallery, query_png):
    communicator = await connect()
    await communicator.send_to(text_data=degrade_message(query_png, params={"sigma": 0.2}))
    messages = await receive_until_done(communicator)
    first, cards, last = messages[0], messages[1:-1], messages[-1]
    assert 'id="degraded-results"' in first and 'hx-swap-oob="true"' in first
    assert first.count('class="degraded-row"') == 3 and "sigma 0.2" in first
    grids = [re.search(r'id="degraded-grid-(\w+)" hx-swap-oob="beforeend"', card).group(1) for card in cards]
    assert grids == ["original"] * 3 + ["degraded"] * 3 + ["enhanced"] * 3
    assert all('class="result-card"' in card for card in cards)
    assert "3 rows, 9 results" in last and 'id="degraded-status"' in last
    await communicator.disconnect()


async def test_a_slider_sweep_ends_with_the_newest_setting(degraded_gallery, query_png):
    communicator = await connect()
    sigmas = [round(0.05 * i, 2) for i in range(11)]  # a lecturer drags sigma from 0 to 0.5
    for sigma in sigmas:
        await communicator.send_to(text_data=degrade_message(query_png, params={"sigma": sigma}))
    messages = await receive_until_done(communicator)
    headers = [m for m in messages if 'id="degraded-results"' in m]
    assert "sigma 0.5" in headers[-1] and len(headers) < len(sigmas)
    assert "3 rows, 9 results" in messages[-1]
    await communicator.disconnect()


async def test_an_example_id_needs_no_image_data(degraded_gallery):
    from channels.db import database_sync_to_async

    example = await database_sync_to_async(lambda: degraded_gallery.images.filter(split="test").first())()
    communicator = await connect()
    message = {"type": "degrade", "example": example.pk, "degradation": "low_resolution", "params": {"level": 2}, "k": 2}
    await communicator.send_to(text_data=json.dumps(message))
    messages = await receive_until_done(communicator)
    assert "true class" in messages[0] and "6 results" in messages[-1]
    await communicator.disconnect()


@pytest.mark.parametrize(("fields", "message"), [
    ({"params": {"sigma": 7}}, "sigma must be between 0 and 1 (got 7)"),
    ({"degradation": "fog"}, "fog is not a degradation"),
    ({"seed": -1}, "greater than or equal to 0"),
])
async def test_bad_settings_get_readable_errors_and_the_socket_stays_open(degraded_gallery, query_png, fields, message):
    communicator = await connect()
    await communicator.send_to(text_data=degrade_message(query_png, **fields))
    reply = await communicator.receive_from(timeout=30)
    assert 'id="form-errors"' in reply and message in reply
    await communicator.send_to(text_data=degrade_message(query_png, k=1))
    assert "3 results" in (await receive_until_done(communicator))[-1]
    await communicator.disconnect()
