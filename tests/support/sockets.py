"""Talking to the search websocket in tests: connect through the real ASGI stack, and read a
query's fragments until its done status or an error message."""

import re

from channels.testing import WebsocketCommunicator

from portal.asgi import application

ORIGIN = [(b"origin", b"http://testserver")]  # AllowedHostsOriginValidator refuses sockets without one
ERRORS = re.compile(r'id="form-errors"[^>]*><p>')  # an error message, not the empty box every header carries


async def connect(path: str = "/ws/search/") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive_until_done(communicator, limit: int = 400, timeout: float = 30) -> list[str]:
    messages = []
    for _ in range(limit):
        message = await communicator.receive_from(timeout=timeout)
        messages.append(message)
        if 'class="status done"' in message or ERRORS.search(message):
            return messages
    raise AssertionError("the stream never finished")
