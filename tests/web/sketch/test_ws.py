"""Sketch queries on the search websocket ({"type": "sketch", ...}): the results header with
what the models made of the drawing, the cards one by one, a done status; bad drawings get
readable errors, and a flood of drawings searches only the newest and never sticks."""

import json

import pytest

from retrieval.engine.sketch.search import SKETCH_MODES
from tests.support.sketches import blank_png, data_url, trousers_png, tshirt_png
from tests.support.sockets import connect, receive_until_done

pytestmark = pytest.mark.django_db(transaction=False)


def sketch(image: bytes | str, **fields) -> str:
    return json.dumps({"type": "sketch", "image": image if isinstance(image, str) else data_url(image), **fields})


@pytest.mark.parametrize("mode", list(SKETCH_MODES))
async def test_a_sketch_streams_what_the_models_made_of_it_then_cards_then_done(gallery, mode):
    communicator = await connect()
    await communicator.send_to(text_data=sketch(tshirt_png(), mode=mode, k=4))
    messages = await receive_until_done(communicator)
    first, cards, last = messages[0], messages[1:-1], messages[-1]
    assert 'id="form-errors"' in first and "<p>" not in first.split('id="form-errors"')[1].split("</div>")[0]
    assert 'id="sketch-results"' in first and 'hx-swap-oob="true"' in first
    assert 'id="sketch-generated"' in first and "what the portal thinks you drew" in first
    assert 'id="sketch-view"' in first and "what the models see" in first and f'data-mode="{mode}"' in first
    assert len(cards) == 4
    assert all('hx-swap-oob="beforeend"' in card and 'class="result-card"' in card for card in cards)
    assert [f'data-rank="{i}"' in card for i, card in enumerate(cards, start=1)] == [True] * 4
    assert 'id="result-status"' in last and "4 results" in last and SKETCH_MODES[mode].title in last
    assert "normalise" in last and "server time" in last
    await communicator.disconnect()


@pytest.mark.parametrize(("fields", "message"), [
    ({"image": data_url(blank_png())}, "draw something first"),
    ({"image": ""}, "draw something first"),
    ({"image": "data:image/png;base64,@@@"}, "not valid base64"),
    ({"image": data_url(b"scribbles")}, "not an image"),
    ({"image": data_url(tshirt_png()), "mode": "telepathy"}, "not a sketch mode"),
    ({"image": "data:image/png;base64," + "A" * (3 * 1024 * 1024)}, "the limit is"),
])
async def test_bad_sketches_get_readable_errors_and_the_socket_stays_usable(gallery, fields, message):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "sketch", **fields}))
    reply = await communicator.receive_from(timeout=20)
    assert 'id="form-errors"' in reply and message in reply
    await communicator.send_to(text_data=sketch(tshirt_png(), k=2))
    assert "2 results" in (await receive_until_done(communicator))[-1]
    await communicator.disconnect()


async def receive_until(communicator, text: str, limit: int = 400) -> list[str]:
    """Messages up to the done status that contains ``text`` (earlier done statuses included)."""
    messages = []
    while len(messages) < limit:
        messages += await receive_until_done(communicator, limit=limit - len(messages))
        if text in messages[-1]:
            return messages
    raise AssertionError(f"no done status with {text!r}")


async def test_a_flood_of_sketches_only_searches_the_newest_and_never_sticks(gallery):
    communicator = await connect()
    drawings = [tshirt_png(width=w) for w in range(4, 24)]  # 20 different drawings
    for k, drawing in enumerate(drawings, start=1):
        await communicator.send_to(text_data=sketch(drawing, k=k, mode="gan"))
    messages = await receive_until(communicator, "20 results")
    # The newest sketch answers last; the older ones were dropped, not queued behind it.
    headers = [m for m in messages if 'id="sketch-results"' in m]
    assert len(headers) < 10
    assert sum('class="status done"' in m for m in messages) < 5
    assert sum('class="result-card"' in m for m in messages) < 20 * 21 // 2
    # Not stuck: the next drawing still gets its header, its cards and a done status, and nothing stale follows.
    await communicator.send_to(text_data=sketch(trousers_png(), k=3, mode="encoder"))
    after = await receive_until_done(communicator)
    assert 'id="sketch-results"' in after[0] and len(after) == 5 and "3 results" in after[-1]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_the_newest_query_wins_across_kinds(gallery, query_png):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 7}))
    await communicator.send_to(text_data=sketch(tshirt_png(), k=2, mode="direct"))
    messages = await receive_until(communicator, "2 results", limit=50)
    assert "Descriptor only" in messages[-1]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_blank_canvas_after_a_drawing_empties_the_results(gallery):
    communicator = await connect()
    await communicator.send_to(text_data=sketch(tshirt_png(), k=2))
    await receive_until_done(communicator)
    await communicator.send_to(text_data=sketch(blank_png()))
    reply = await communicator.receive_from(timeout=20)
    assert "draw something first" in reply and 'id="sketch-results"' in reply and "empty-state" in reply
    assert 'id="result-grid"' not in reply
    await communicator.disconnect()
