"""End to end on PostgreSQL with gunicorn running 2 workers: a change reaches sockets on both."""
import uuid

import pytest
from simple_websocket import ConnectionClosed, ConnectionError
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.realtime import events
from testkit.live import (
    Gunicorn,
    connect,
    create_schema_and_user,
    csrf_for,
    http_login,
    http_request,
    open_on_both_workers,
    receive,
)

pytestmark = pytest.mark.postgres

PASSWORD = "demo123456"


@pytest.fixture(scope="module")
def database(pg_cluster):
    url = pg_cluster.create_database(f"live_{uuid.uuid4().hex[:8]}")
    user_id = create_schema_and_user(url, "live_admin", roles=("admin",))
    return url, user_id


@pytest.fixture(scope="module")
def server(database):
    with Gunicorn(database[0], workers=2, threads=16) as gunicorn:
        yield gunicorn


@pytest.fixture(scope="module")
def cookie(server):
    return http_login(server.url, "live_admin", PASSWORD)


def close(sockets):
    for _, ws in sockets:
        try:
            ws.close()
        except ConnectionClosed:
            pass


def test_a_change_made_through_http_reaches_sockets_on_both_workers(server, database, cookie):
    url, user_id = database
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO notifications (recipient_id, type, title, content, priority, is_read, created_at, data) "
            "VALUES (:user, 'system', '系统通知', '', 'normal', false, now() at time zone 'utc', '{}')"), {"user": user_id})
    engine.dispose()
    sockets = open_on_both_workers(server, cookie)
    token, cookie = csrf_for(server.url, cookie)

    status, _, _ = http_request(server.url, "POST", "/notifications/read-all", cookie=cookie,
                                headers={"X-CSRFToken": token, "HX-Request": "true", "Origin": server.url})

    assert status == 200
    messages = [(worker, receive(ws, timeout=1.0)) for worker, ws in sockets]
    close(sockets)
    assert {worker for worker, _ in messages} == {worker for worker, _ in sockets}
    assert all(m == {"type": "event", "event": "notification", "id": m["id"], "topics": [f"user:{user_id}"]}
               for _, m in messages), messages


def test_a_change_committed_by_another_process_reaches_every_socket(server, database, cookie):
    url, user_id = database
    sockets = open_on_both_workers(server, cookie)
    engine = create_engine(url)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        events.publish("task.updated", department_ids=[5], user_ids=[user_id], session=session)
        session.commit()
    engine.dispose()

    messages = [receive(ws, timeout=1.0) for _, ws in sockets]
    close(sockets)
    assert all(m is not None and m["event"] == "task.updated" for m in messages), messages


def test_a_rolled_back_change_reaches_no_socket(server, database, cookie):
    url, user_id = database
    ws = connect(server.url, cookie=cookie)
    receive(ws)
    engine = create_engine(url)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        events.publish("task.updated", user_ids=[user_id], session=session)
        session.rollback()
    engine.dispose()

    assert receive(ws, timeout=0.5) is None
    ws.close()


def test_a_foreign_origin_is_refused(server, cookie):
    with pytest.raises(ConnectionError) as refused:
        connect(server.url, cookie=cookie, origin="http://evil.example")
    assert refused.value.status_code == 403


def test_an_anonymous_socket_is_closed_with_4401(server):
    ws = connect(server.url)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.receive(timeout=5)
    assert closed.value.reason == 4401


def test_stopping_gunicorn_closes_sockets_with_1012(database):
    with Gunicorn(database[0], workers=2, threads=16) as gunicorn:
        cookie = http_login(gunicorn.url, "live_admin", PASSWORD)
        sockets = open_on_both_workers(gunicorn, cookie, wanted=4)
        gunicorn.stop()
        codes = []
        for _, ws in sockets:
            try:
                while ws.receive(timeout=5) is not None:
                    pass
            except ConnectionClosed as closed:
                codes.append(closed.reason)
    assert codes == [1012] * len(sockets)
