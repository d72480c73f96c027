"""WS /ws — the one WebSocket of every page (docs/LIVE.md).

The handshake is authorised by the login session (or, for a wall screen, a department board
token), and its ``Origin`` must be this site. The handler thread is the socket's only writer:
it drains the connection's queue and closes with 1012 when the server shuts down so that clients
reconnect and resync. simple-websocket's reader thread pings every 25 s to find dead kiosks
(its ``ping_interval``). Only simple-websocket's documented API is used (accept's options, send,
receive, close); the send timeout is set on the server's own socket from the WSGI environ.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket as socket_module
import struct
import threading
import time
from urllib.parse import urlsplit

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user
from simple_websocket import ConnectionClosed

from app.errors.handlers import DATABASE_UNAVAILABLE
from app.extensions import db, sock
from app.metrics import WEBSOCKETS_OPEN, observe_event_delivery
from app.realtime import listener, topics
from app.realtime.hub import CLOSE_UNAUTHENTICATED, HUB, Close, Connection, EventMessage
from app.services.dispatch import board as board_service

log = logging.getLogger(__name__)

bp = Blueprint("realtime", __name__)

PING_INTERVAL_SECONDS = 25.0
# How often the writer looks up from its queue to notice a socket the client closed, so that its
# gthread worker thread is free again promptly (a reconnecting page must not find the pool full).
LIVENESS_TICK_SECONDS = 1.0
# A client that does not take a message within this time is cut off instead of holding a thread.
SEND_TIMEOUT_SECONDS = 10
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013  # the database is away: the page reconnects with its backoff


@bp.record_once
def _configure(state) -> None:
    app = state.app
    options = app.config.setdefault("SOCK_SERVER_OPTIONS", {})
    # Clients never send more than a close frame; refuse anything big.
    options.setdefault("max_message_size", 4096)
    # A ping every 25 s; no pong by the next one and simple-websocket closes the socket (a dead kiosk).
    options.setdefault("ping_interval", PING_INTERVAL_SECONDS)
    if not app.config.get("TESTING") and threading.current_thread() is threading.main_thread():
        _close_sockets_on_shutdown()


def _close_sockets_on_shutdown() -> None:
    """Chain the server's stop signals (gunicorn's, werkzeug's) so sockets close with 1012 first."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(signum)
        if not callable(previous) or getattr(previous, "closes_live_sockets", False):
            continue

        def handler(sig, frame, previous=previous):
            HUB.close_all(CLOSE_SERVICE_RESTART, "server restart")
            previous(sig, frame)

        handler.closes_live_sockets = True
        signal.signal(signum, handler)


def same_origin() -> bool:
    origin = request.headers.get("Origin")
    return bool(origin) and urlsplit(origin).netloc.lower() == request.host.lower()


@bp.before_request
def refuse_foreign_origin():
    """Cross-site WebSocket hijacking: a page on another site must not ride our session cookie."""
    if not same_origin():
        return _("拒绝来自其他站点的实时连接"), 403, {"Content-Type": "text/plain; charset=utf-8"}
    return None


def _subscription() -> tuple[int | None, int | None, set[str]] | None:
    """(user id, session generation, channels) for this handshake, or None when nobody is authorised."""
    if current_user.is_authenticated:
        return (current_user.id, current_user.session_generation,
                topics.for_user(current_user, topics.parse(request.args.get("topics"))))
    board_code, token = request.args.get("board"), request.args.get("token")
    if board_code and token:
        department = board_service.department_for_token(board_code, token)
        if department is not None:
            return None, None, topics.for_board(department)
    return None


@sock.route("/ws", bp=bp)
def socket(ws):
    try:
        subscription = _subscription()
    except DATABASE_UNAVAILABLE:  # the handshake is done: the error handler's 503 could not reach the page
        db.session.rollback()
        ws.close(CLOSE_TRY_AGAIN_LATER, "database unavailable")
        return
    if subscription is None:
        ws.close(CLOSE_UNAUTHENTICATED, "login required")
        return
    user_id, generation, channels = subscription
    listener.ensure_started(db.engine.url, on_reconnect=lambda: HUB.broadcast({"type": "resync"}))
    # The socket may stay open for hours: give the pooled database connection back now.
    db.session.remove()
    connection = Connection(user_id, channels, generation=generation)
    HUB.register(connection)
    WEBSOCKETS_OPEN.inc()
    opened = time.monotonic()
    # At DEBUG: a plant has hundreds of kiosks; LOG_LEVELS=app.realtime=DEBUG shows them when needed.
    log.debug("websocket connected", extra={"ws_user_id": user_id, "channels": len(channels)})
    try:
        serve(ws, connection)
    finally:
        WEBSOCKETS_OPEN.dec()
        HUB.unregister(connection)
        log.debug("websocket disconnected", extra={"ws_user_id": user_id, "seconds_open": round(
            time.monotonic() - opened, 1), "resyncs": connection.overflows})


def serve(ws, connection: Connection) -> None:
    """The writer loop: the only code that writes to this socket."""
    _limit_send_time()
    ws.send(json.dumps({"type": "hello", "topics": sorted(connection.channels), "server": os.getpid()}))
    while _client_still_there(ws):
        message = connection.next(timeout=LIVENESS_TICK_SECONDS)
        if isinstance(message, Close):
            ws.close(message.code, message.reason)
            return
        if isinstance(message, EventMessage):
            # Counted as it is handed to the socket, so a client that has it can already see it counted.
            observe_event_delivery(message.created_at)
            ws.send(message.text)
        elif message is not None:
            if message.get("type") == "resync":
                log.debug("websocket told to resync", extra={"ws_user_id": connection.user_id})
            ws.send(json.dumps(message))


def _client_still_there(ws) -> bool:
    """False once the socket is closed (by the client, or by simple-websocket on a missed pong).

    Clients send nothing but a close: a message is read without waiting and dropped."""
    try:
        ws.receive(timeout=0)
    except ConnectionClosed:
        return False
    return True


def _limit_send_time() -> None:
    # The socket simple-websocket writes to is the server's own, as the WSGI environ names it.
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    try:
        sock.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_SNDTIMEO,
                        struct.pack("ll", SEND_TIMEOUT_SECONDS, 0))
    except (OSError, AttributeError):  # not a plain TCP socket: keep the default
        log.debug("could not set a send timeout on the WebSocket")

