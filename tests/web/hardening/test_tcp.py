"""Daphne's connections send small responses at once (TCP_NODELAY), not after a delayed ACK."""

from daphne.http_protocol import HTTPFactory
from twisted.internet.testing import StringTransport

from portal.tcp import enable_tcp_nodelay


class TcpTransport(StringTransport):
    no_delay = False

    def setTcpNoDelay(self, enabled):  # noqa: N802 -- Twisted's name
        self.no_delay = enabled


def test_every_new_connection_sets_tcp_nodelay():
    assert enable_tcp_nodelay() and enable_tcp_nodelay()  # idempotent: patched once
    protocol = HTTPFactory(server=None).buildProtocol(("127.0.0.1", 1234))
    transport = TcpTransport()
    protocol.makeConnection(transport)
    assert transport.no_delay is True
    protocol.connectionLost(None)
