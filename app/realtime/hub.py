"""The per-process hub: channel → connections, one bounded queue per connection.

Events come in from ``events.deliver()`` (the LISTEN thread on PostgreSQL, the committing
request on SQLite). ``dispatch()`` never blocks: it only puts a small message on each target
connection's queue. Each connection is drained by exactly one writer (its /ws handler thread),
so a socket is never written from two threads, and a slow or dead client only ever fills its
own queue — when that happens the queued messages are replaced by one ``resync`` message, which
makes that client re-fetch all its live regions once it catches up.
"""
from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass

from app.metrics import event_created_at
from app.models import Task
from app.realtime import events

QUEUE_SIZE = 64
RESYNC = {"type": "resync"}
# The close code that sends a page to the login screen (static/js/live.js reloads it, and the
# reloaded page, no longer logged in, goes to the login).
CLOSE_UNAUTHENTICATED = 4401


class EventMessage(dict):
    """An event as the clients subscribed to the same of its channels receive it (one object for
    all of them, never changed); ``created_at`` (Unix time, not sent) feeds the delivery metric."""

    def __init__(self, created_at: float | None, **fields):
        super().__init__(**fields)
        self.created_at = created_at
        self._text: str | None = None

    @property
    def text(self) -> str:
        """The JSON sent, encoded once for all its receivers (an event may go to hundreds of sockets)."""
        if self._text is None:
            self._text = json.dumps(self)
        return self._text


@dataclass(frozen=True)
class Close:
    """Tells a connection's writer to close the socket with this WebSocket close code."""

    code: int
    reason: str = ""


class Connection:
    def __init__(self, user_id: int | None, channels, maxsize: int = QUEUE_SIZE, generation: int | None = None):
        self.user_id = user_id
        # The session generation of the login that opened the socket (None: a board's token).
        self.generation = generation
        self.channels = frozenset(channels)
        self._queue: queue.Queue = queue.Queue(maxsize)
        self._overflow_lock = threading.Lock()
        self.overflows = 0

    def offer(self, message) -> bool:
        """Queue a message without waiting; False if the queue was full (it now holds a resync)."""
        try:
            self._queue.put_nowait(message)
            return True
        except queue.Full:
            self._replace_backlog(RESYNC)
            return False

    def close(self, code: int, reason: str = "") -> None:
        """Ask the writer to close, ahead of anything still queued."""
        self._replace_backlog(Close(code, reason))

    def _replace_backlog(self, message) -> None:
        with self._overflow_lock:
            self.overflows += message is RESYNC
            while True:
                try:
                    while True:
                        pending = self._queue.get_nowait()
                        if isinstance(pending, Close):  # a close already asked for wins
                            message = pending
                except queue.Empty:
                    pass
                try:
                    self._queue.put_nowait(message)
                    return
                except queue.Full:  # refilled by another dispatcher meanwhile
                    continue

    def next(self, timeout: float | None = None):
        """The next message for the writer, or None after ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_channel: dict[str, set[Connection]] = {}
        self._connections: set[Connection] = set()

    def register(self, connection: Connection) -> None:
        with self._lock:
            self._connections.add(connection)
            for channel in connection.channels:
                self._by_channel.setdefault(channel, set()).add(connection)

    def unregister(self, connection: Connection) -> None:
        with self._lock:
            self._connections.discard(connection)
            for channel in connection.channels:
                members = self._by_channel.get(channel)
                if members is not None:
                    members.discard(connection)
                    if not members:
                        del self._by_channel[channel]

    def dispatch(self, payload: dict) -> int:
        """Queue the event for every connection subscribed to one of its channels.

        Each connection is told only the channels it subscribed to, never the others.
        Returns the number of connections reached.
        """
        if payload.get("type") == events.SESSION_ENDED:
            return self.end_sessions(payload)
        matched: dict[Connection, list[str]] = {}
        with self._lock:
            for channel in events.channels_of(payload):
                for connection in self._by_channel.get(channel, ()):
                    matched.setdefault(connection, []).append(channel)
        created_at = event_created_at(payload)
        messages: dict[tuple[str, ...], EventMessage] = {}  # one per set of channels told
        for connection, channels in matched.items():
            topics = tuple(sorted(channels))
            message = messages.get(topics)
            if message is None:
                # What a page needs to skip a region the change cannot touch (static/js/live.js), as told on
                # these channels (a board's parts only to the board's own viewers).
                message = messages[topics] = EventMessage(created_at, type="event", event=payload.get("type"),
                                                          id=payload.get("id"), topics=list(topics),
                                                          **events.message_hints(payload, topics))
            connection.offer(message)
        return len(matched)

    def end_sessions(self, payload: dict) -> int:
        """Close the sockets of the sessions a ``session.ended`` event ended; returns how many.

        A socket opened by a login after the change (its generation already the new one) stays.
        """
        user_ids, generation = set(payload.get("user_ids", ())), payload.get("generation")
        ended = [connection for connection in self.connections()
                 if connection.user_id in user_ids
                 and (generation is None or connection.generation is None or connection.generation < generation)]
        for connection in ended:
            connection.close(CLOSE_UNAUTHENTICATED, "session ended")
        return len(ended)

    def broadcast(self, message) -> None:
        for connection in self.connections():
            connection.offer(message)

    def close_all(self, code: int, reason: str = "") -> None:
        for connection in self.connections():
            connection.close(code, reason)

    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    def channel_count(self) -> int:
        with self._lock:
            return len(self._by_channel)


HUB = Hub()
events.subscribe(HUB.dispatch)
events.watch_tasks(Task)
