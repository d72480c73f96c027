"""/ws through simple-websocket's documented API only: its options ping dead kiosks, and a closed socket ends the
writer loop through ConnectionClosed (no private attribute of the socket object is read)."""
from simple_websocket import ConnectionClosed

from app.realtime import socket as live_socket


def test_the_server_options_ping_every_25_seconds_and_refuse_big_messages(app):
    assert app.config["SOCK_SERVER_OPTIONS"] == {"max_message_size": 4096, "ping_interval": 25.0}


class FakeSocket:
    """Only the public methods the writer loop may call: send, receive, close."""

    def __init__(self, closed_after: int):
        self.sent, self.receives, self.closed_after = [], 0, closed_after

    def send(self, data):
        self.sent.append(data)

    def receive(self, timeout=None):
        assert timeout == 0
        self.receives += 1
        if self.receives > self.closed_after:
            raise ConnectionClosed(1001, "going away")
        return None

    def close(self, reason=None, message=None):  # pragma: no cover - not reached here
        raise AssertionError("the client closed first")


def test_the_writer_loop_ends_when_the_client_has_closed(app, monkeypatch):
    from app.realtime.hub import Connection

    monkeypatch.setattr(live_socket, "LIVENESS_TICK_SECONDS", 0.01)
    ws = FakeSocket(closed_after=3)
    with app.test_request_context("/ws"):
        live_socket.serve(ws, Connection(1, {"user:1"}))

    assert ws.receives == 4 and len(ws.sent) == 1 and '"type": "hello"' in ws.sent[0]
