"""The search websocket under hostile input: unknown paths, foreign origins, nesting, size."""

import json

import pytest
from channels.testing import WebsocketCommunicator

from portal.asgi import application
from tests.conftest import data_url
from tests.support.sockets import connect, receive_until_done
from tests.web.hardening.conftest import WS_KINDS, nested

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/", "/", "/ws/search/extra/", "/ws/training/"])
async def test_unknown_paths_are_refused_at_the_handshake_with_one_log_line(path, caplog):
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://testserver")])
    connected, _ = await communicator.connect()
    assert not connected
    lines = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(lines) == 1 and "no such path" in lines[0].getMessage() and not lines[0].exc_info


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
    ("http://localhost:8000", "localhost:8000", True),
    ("http://127.0.0.1:9999", "127.0.0.1:8000", False),  # another application on another port
    ("https://127.0.0.1:8000", "127.0.0.1:8000", False),  # another scheme
    ("http://127.0.0.1", "127.0.0.1:8000", False),
    ("http://evil.example:8000", "evil.example:8000", False),  # not an allowed host
    ("null", "127.0.0.1:8000", False),
    ("http://testserver", "", True),  # no Host header (in-process clients): the default port only
    ("http://testserver:9999", "", False),
])
async def test_the_origin_check_compares_scheme_host_and_port(gallery, origin, host, allowed):
    headers = [(b"origin", origin.encode())] + ([(b"host", host.encode())] if host else [])
    communicator = WebsocketCommunicator(application, "/ws/search/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected is allowed
    if connected:
        await communicator.disconnect()


async def test_an_origin_listed_in_the_settings_is_accepted(gallery, settings):
    settings.PORTAL_ALLOWED_ORIGINS = ["https://portal.example"]
    headers = [(b"origin", b"https://portal.example"), (b"host", b"127.0.0.1:8000")]
    communicator = WebsocketCommunicator(application, "/ws/search/", headers=headers)
    assert (await communicator.connect())[0]
    await communicator.disconnect()


@pytest.mark.parametrize("kind", WS_KINDS)
@pytest.mark.parametrize("levels", [33, 5000, 200_000])
async def test_deeply_nested_messages_get_a_message_and_the_socket_stays_open(gallery, query_png, kind, levels):
    communicator = await connect()
    await communicator.send_to(text_data=f'{{"type": "{kind}", "image": {nested(levels)}}}')
    reply = await communicator.receive_from(timeout=20)
    assert 'id="form-errors"' in reply and f"nested {levels + 1} levels deep" in reply  # in the message's object
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 2}))
    assert "2 results" in (await receive_until_done(communicator))[-1]
    await communicator.disconnect()


@pytest.mark.parametrize("kind", WS_KINDS)
async def test_a_message_over_the_limit_gets_a_message_naming_the_limit(gallery, query_png, kind, settings):
    communicator = await connect()
    padding = "A" * (settings.PORTAL_MAX_WS_MESSAGE_BYTES + 1)
    await communicator.send_to(text_data=json.dumps({"type": kind, "image": "data:image/png;base64," + padding}))
    reply = await communicator.receive_from(timeout=20)
    assert 'id="form-errors"' in reply and "the limit is" in reply
    await communicator.send_to(text_data=json.dumps({"type": "search", "image": data_url(query_png), "k": 2}))
    assert "2 results" in (await receive_until_done(communicator))[-1]
    await communicator.disconnect()


async def test_binary_frames_are_answered(gallery):
    communicator = await connect()
    await communicator.send_to(bytes_data=b"\x89PNG")
    assert "JSON text" in await communicator.receive_from(timeout=20)
    await communicator.disconnect()


def test_the_websocket_limit_admits_an_upload_at_the_upload_limit(settings):
    import base64

    image = "data:image/png;base64," + base64.b64encode(b"\0" * settings.PORTAL_MAX_UPLOAD_BYTES).decode()
    largest = len(json.dumps({"type": "search", "k": 100, "metric": "cosine", "gallery": "fashion-mnist", "image": image}))
    assert largest <= settings.PORTAL_MAX_WS_MESSAGE_BYTES
