"""The WebSocket test client reports what a server sent right behind its handshake reply."""
import socket
import threading

import pytest
from simple_websocket import ConnectionClosed
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from testkit.live import connect


def serve_once(listener: socket.socket, *frames) -> None:
    """Accept one client, answer its handshake and send ``frames`` in the same write, then hang up."""
    client, _ = listener.accept()
    with client:
        server = WSConnection(ConnectionType.SERVER)
        while not any(isinstance(event, Request) for event in server.events()):
            server.receive_data(client.recv(4096))
        client.sendall(server.send(AcceptConnection()) + b"".join(server.send(frame) for frame in frames))


@pytest.fixture
def listener():
    with socket.create_server(("127.0.0.1", 0)) as listening:
        yield listening


def start(listener, *frames) -> str:
    threading.Thread(target=serve_once, args=(listener, *frames), daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_close_sent_with_the_handshake_reply_keeps_its_code(listener):
    ws = connect(start(listener, CloseConnection(4401, "login required")), origin=None)

    with pytest.raises(ConnectionClosed) as closed:
        ws.receive(timeout=5)
    assert (closed.value.reason, closed.value.message) == (4401, "login required")


def test_a_message_sent_with_the_handshake_reply_is_received_at_once(listener):
    ws = connect(start(listener, TextMessage('{"type": "hello"}')), origin=None)

    assert ws.receive(timeout=0.5) == '{"type": "hello"}'
