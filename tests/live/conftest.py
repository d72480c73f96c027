"""Fixtures of the live tests."""
import json

import psycopg
import pytest

from app.realtime import events
from app.realtime.listener import conninfo_for


@pytest.fixture()
def announced(db, backend):
    """A function returning the events announced so far, whichever path the backend uses."""
    if backend == "postgresql":
        connection = psycopg.connect(conninfo_for(db.engine.url), autocommit=True)
        connection.execute(f"LISTEN {events.NOTIFY_CHANNEL}")
        received = []

        def collect(wait: float = 1.0):
            received.extend(json.loads(n.payload) for n in connection.notifies(timeout=wait))
            return received

        yield collect
        connection.close()
    else:
        received = []
        events.subscribe(received.append)
        yield lambda wait=0: received
        events.unsubscribe(received.append)
