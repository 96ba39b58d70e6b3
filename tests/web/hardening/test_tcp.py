"""Daphne's connections send small responses at once (TCP_NODELAY), not after a delayed ACK,
and leave multipart bodies to Django (Twisted no longer parses each upload into ``args``)."""

from daphne.http_protocol import HTTPFactory
from twisted.internet.testing import StringTransport

from portal.tcp import enable_tcp_nodelay, skip_form_parsing


class TcpTransport(StringTransport):
    no_delay = False

    def setTcpNoDelay(self, enabled):  # noqa: N802 -- Twisted's name
        self.no_delay = enabled


class Server:
    """What daphne's request asks of its server before the body has arrived."""

    def protocol_connected(self, protocol):
        pass

    def protocol_disconnected(self, protocol):
        pass


def test_every_new_connection_sets_tcp_nodelay():
    assert enable_tcp_nodelay() and enable_tcp_nodelay()  # idempotent: patched once
    protocol = HTTPFactory(server=None).buildProtocol(("127.0.0.1", 1234))
    transport = TcpTransport()
    protocol.makeConnection(transport)
    assert transport.no_delay is True
    protocol.connectionLost(None)


def test_a_multipart_request_is_not_parsed_by_twisted():
    assert skip_form_parsing() and skip_form_parsing()  # idempotent: patched once
    protocol = HTTPFactory(server=Server()).buildProtocol(("127.0.0.1", 1234))
    protocol.makeConnection(StringTransport())
    protocol.dataReceived(b"POST /api/search/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 64\r\n\r\n")
    (request,) = protocol._channel.requests  # headers in, body still to come
    assert request._parsePOSTFormSubmission is False
    protocol.connectionLost(None)
