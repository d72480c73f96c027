"""Sessions that end close their WebSockets (issue 19): within 5 s, with 4401, which sends the page to
the login (static/js/live.js). Against the threaded live server on either database, and against a
real gunicorn with two workers on PostgreSQL, where the change is made in one worker and the sockets
live in both."""
import time
import uuid

import pytest
from simple_websocket import ConnectionClosed

import factories as f
from app.realtime.hub import HUB
from testkit.live import (
    Gunicorn,
    connect,
    create_schema_and_user,
    csrf_for,
    http_login,
    http_request,
    open_on_both_workers,
    receive,
    session_cookie,
    wait_for,
)

CLOSE_WITHIN_SECONDS = 5.0


def close_code_and_time(ws, timeout=CLOSE_WITHIN_SECONDS, started=None):
    """(the close code the server sent, seconds since ``started``), or (None, timeout) when still open."""
    started = started or time.monotonic()
    try:
        while ws.receive(timeout=max(0.0, timeout - (time.monotonic() - started))) is not None:
            pass
    except ConnectionClosed as closed:
        return closed.reason, time.monotonic() - started
    return None, timeout


def test_deactivating_a_person_closes_their_sockets_with_4401(app, client, login, live_server):
    admin = f.UserFactory(roles=["admin"])
    victim, bystander = f.UserFactory(roles=["operator"]), f.UserFactory(roles=["operator"])
    sockets = [connect(live_server.url, cookie=session_cookie(app, victim.id)) for _ in range(2)]
    other = connect(live_server.url, cookie=session_cookie(app, bystander.id))
    for ws in (*sockets, other):
        assert receive(ws)["type"] == "hello"
    assert wait_for(lambda: len(HUB.connections()) == 3)
    login(admin)

    assert client.post(f"/admin/users/{victim.id}/deactivate").status_code == 303

    for ws in sockets:
        code, seconds = close_code_and_time(ws)
        assert code == 4401 and seconds < CLOSE_WITHIN_SECONDS
    assert receive(other, timeout=0.3) is None and other.connected
    other.close()


def test_an_ended_session_cannot_open_a_socket_again(app, client, live_server, db):
    victim = f.UserFactory(roles=["operator"])
    cookie = session_cookie(app, victim.id)
    from app.services.auth import sessions

    sessions.end_sessions(victim)
    db.session.commit()

    code, _ = close_code_and_time(connect(live_server.url, cookie=cookie))
    assert code == 4401


# ---------------------------------------------------------------- a real gunicorn, two workers

PASSWORD = f.PASSWORD


@pytest.fixture(scope="module")
def database(pg_cluster):
    url = pg_cluster.create_database(f"sessions_{uuid.uuid4().hex[:8]}")
    create_schema_and_user(url, "session_victim", roles=("admin",))
    return url


@pytest.fixture(scope="module")
def server(database):
    with Gunicorn(database, workers=2, threads=16) as gunicorn:
        yield gunicorn


@pytest.mark.postgres
def test_logging_out_on_one_worker_closes_the_persons_sockets_on_both_within_5_seconds(server):
    cookie = http_login(server.url, "session_victim", PASSWORD)
    copied_cookie = cookie
    sockets = open_on_both_workers(server, cookie)
    token, cookie = csrf_for(server.url, cookie)

    started = time.monotonic()
    status, _, _ = http_request(server.url, "POST", "/logout", cookie=cookie,
                                headers={"X-CSRFToken": token, "Origin": server.url,
                                         "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302

    results = [(worker, *close_code_and_time(ws, started=started)) for worker, ws in sockets]
    assert len({worker for worker, _, _ in results}) == 2
    assert all(code == 4401 for _, code, _ in results), results
    assert max(seconds for _, _, seconds in results) < CLOSE_WITHIN_SECONDS, results
    # The copied cookie (taken before the logout) is no longer a session either.
    status, _, _ = http_request(server.url, "GET", "/notifications", cookie=copied_cookie)
    assert status == 302
