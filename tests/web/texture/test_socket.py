"""The texture page's websocket flow: a picked texture, then a box dragged over an upload,
re-ranked live by Hamming distance; bad input answers with a message."""

import base64
import re

import pytest
from channels.db import database_sync_to_async

from tests.support.queries import query_state
from tests.support.sockets import connect, receive_until_done

from .conftest import first_of_each_class
from .test_page_and_api import png


def cards(messages) -> list[tuple[int, int]]:
    found = [re.search(r'data-id="(\d+)" data-hamming="(\d+)"', m) for m in messages if "texture-card" in m]
    return [(int(f.group(1)), int(f.group(2))) for f in found if f]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_picking_then_boxing_re_ranks_over_the_socket(textures):
    example = (await database_sync_to_async(first_of_each_class)(textures))[1]
    socket = await connect()
    try:
        await socket.send_json_to({"type": "texture", "example": str(example.pk), "bits": "32", "k": 5})
        messages = await receive_until_done(socket)
        assert 'id="texture-results"' in messages[0] and 'id="texture-patch"' in messages[0]
        assert 'id="pr-chart"' in messages[0] and "ranking…" in messages[0]
        ranked = cards(messages)
        assert len(ranked) == 5 and ranked[0][1] == 0
        assert [h for _, h in ranked] == sorted(h for _, h in ranked)
        assert all('hx-swap-oob="beforeend"' in m for m in messages[1:-1])
        assert "5 textures ranked by Hamming distance at 32 bits" in messages[-1]

        image = "data:image/png;base64," + base64.b64encode(png().getvalue()).decode()
        await socket.send_json_to({"type": "texture", "image": image, "box": "0,0,48,48", "bits": "128", "k": 4})
        messages = await receive_until_done(socket)
        assert "box 0,0,48,48 of the 96 x 96 px image" in messages[0] and len(cards(messages)) == 4
        stored = query_state(messages[0])["link"].split("q=")[1].split("&")[0]
        await socket.send_json_to({"type": "texture", "q": stored, "box": "40,40,56,56", "bits": "128", "k": 4})
        messages = await receive_until_done(socket)  # the stored upload, another box: no image resent
        assert "box 40,40,56,56 of the 96 x 96 px image" in messages[0] and len(cards(messages)) == 4

        await socket.send_json_to({"type": "texture", "example": str(example.pk), "bits": "7"})
        error = await receive_until_done(socket)
        assert "7 is not a code length" in error[-1]
        await socket.send_json_to({"type": "texture", "q": stored, "box": "90,90,20,20"})
        error = await receive_until_done(socket)
        assert "reaches outside the 96 x 96 px image" in error[-1]
    finally:
        await socket.disconnect()
