"""One PostgreSQL LISTEN thread per worker process feeds the hub (DESIGN.md §3).

The thread owns its own autocommit psycopg connection (never one from the pool), listens on
``wo_events`` and hands every notification to ``events.deliver()``. When the connection breaks (the
database restarts, or is away for a while) it reconnects with backoff (1 s doubling to 5 s: pages
should be live again within seconds of the database's return); events sent while it was down are
lost, so after a reconnect every socket of this process is told to ``resync`` (re-fetch its live
regions). TCP keepalives and the periodic ``SELECT 1`` find a server that vanished without a word.

It starts lazily, on the first /ws connection of the process (``ensure_started``): a process
without sockets has nobody to deliver to.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import URL

from app.metrics import LISTENER_DOWN, LISTENER_LAST_EVENT, LISTENER_RECONNECTS
from app.realtime import events

log = logging.getLogger(__name__)

APPLICATION_NAME = "wo-events-listener"  # how it shows in pg_stat_activity
HEALTH_CHECK_SECONDS = 15.0
MAX_BACKOFF_SECONDS = 5.0
CONNECT_OPTIONS = {"connect_timeout": 2, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                   "keepalives_count": 3}


def conninfo_for(url: URL) -> str:
    """A libpq URI for psycopg.connect() from the SQLAlchemy URL of the app's engine."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener(threading.Thread):
    def __init__(self, conninfo: str, on_reconnect: Callable[[], None],
                 deliver: Callable[[dict], None] = events.deliver):
        super().__init__(name=APPLICATION_NAME, daemon=True)
        self.conninfo = conninfo
        self.on_reconnect = on_reconnect
        self.deliver = deliver
        self.listening = threading.Event()
        self.connections_made = 0
        self.last_event_at: float | None = None  # Unix time, for 系统状态 and the metric
        self.last_error: str | None = None

    def run(self) -> None:
        delay = 1.0
        while True:
            try:
                self._listen()
            except Exception as error:  # any failure means: reconnect, never die
                if self.listening.is_set():  # it had been working: start the backoff over
                    delay = 1.0
                    LISTENER_DOWN.inc()
                self.listening.clear()
                self.last_error = str(error)
                log.warning("event listener lost its connection (%s); retrying in %.0f s", error, delay)
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, application_name=APPLICATION_NAME,
                             **CONNECT_OPTIONS) as connection:
            connection.execute(f"LISTEN {events.NOTIFY_CHANNEL}")
            self.connections_made += 1
            self.listening.set()
            if self.connections_made > 1:
                LISTENER_DOWN.dec()
                LISTENER_RECONNECTS.inc()
                log.info("event listener reconnected; telling every socket of this process to resync")
                self.on_reconnect()
            while True:
                for notification in connection.notifies(timeout=HEALTH_CHECK_SECONDS):
                    self._deliver(notification.payload)
                connection.execute("SELECT 1")  # a dead server surfaces here, not never

    def _deliver(self, text: str) -> None:
        self.last_event_at = time.time()
        LISTENER_LAST_EVENT.set(self.last_event_at)
        try:
            payload = json.loads(text)
        except ValueError:
            log.warning("ignoring a malformed event: %r", text[:200])
            return
        self.deliver(payload)


_listener: Listener | None = None
_start_lock = threading.Lock()


def current() -> Listener | None:
    """This process's listener, if a WebSocket has started one."""
    return _listener


def ensure_started(url: URL, on_reconnect: Callable[[], None], wait_seconds: float = 3.0) -> Listener | None:
    """Start this process's listener once; wait briefly so the first socket misses nothing."""
    global _listener
    if url.get_backend_name() != "postgresql":
        return None
    with _start_lock:
        if _listener is None or not _listener.is_alive():
            _listener = Listener(conninfo_for(url), on_reconnect)
            _listener.start()
    _listener.listening.wait(wait_seconds)
    return _listener

