"""WS /ws against the threaded live server: handshake rules, topics, delivery, shutdown, cleanup."""
import pytest
from simple_websocket import ConnectionClosed, ConnectionError

from app.realtime.hub import HUB
from app.services.dispatch import board as board_service
from app.services.notifications import inbox as notifications
from factories import DepartmentFactory, TaskFactory, UserFactory
from testkit.live import connect, receive, receive_until, session_cookie, wait_for


def close_code(ws, timeout=5.0):
    """The close code the server sent (after any messages still queued)."""
    try:
        while ws.receive(timeout=timeout) is not None:
            pass
    except ConnectionClosed as closed:
        return closed.reason
    return None


@pytest.fixture()
def user_socket(app, live_server):
    opened = []

    def _open(user, **query):
        ws = connect(live_server.url, cookie=session_cookie(app, user.id), query=query or None)
        opened.append(ws)
        return ws

    yield _open
    for ws in opened:
        try:
            ws.close()
        except ConnectionClosed:
            pass


def test_an_anonymous_socket_is_closed_with_4401(live_server):
    ws = connect(live_server.url)
    assert close_code(ws) == 4401


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1", None])
def test_a_foreign_or_missing_origin_is_refused_before_the_upgrade(app, live_server, db, origin):
    user = UserFactory()
    with pytest.raises(ConnectionError) as refused:
        connect(live_server.url, cookie=session_cookie(app, user.id), origin=origin)
    assert refused.value.status_code == 403


def test_a_user_joins_own_and_department_channels_and_allowed_page_topics(db, user_socket):
    department, elsewhere = DepartmentFactory(), DepartmentFactory()
    operator = UserFactory(roles=["operator"], departments=[department])
    own_task = TaskFactory(department=department, operator=operator)
    foreign_task = TaskFactory(department=elsewhere)

    ws = user_socket(operator, topics=f"task:{own_task.id} task:{foreign_task.id} dept:{elsewhere.id} all wo:1 x")
    hello = receive(ws)

    assert hello["type"] == "hello"
    assert hello["topics"] == sorted([f"user:{operator.id}", f"dept:{department.id}", f"task:{own_task.id}"])


def test_a_committed_notification_reaches_the_recipients_socket_only(db, user_socket):
    recipient, bystander = UserFactory(), UserFactory()
    ws, other = user_socket(recipient), user_socket(bystander)
    receive(ws), receive(other)

    notifications.notify([recipient], "system", "系统通知", "内容")
    db.session.commit()

    message = receive_until(ws, lambda m: m["type"] == "event")
    assert (message["event"], message["topics"]) == ("notification", [f"user:{recipient.id}"])
    assert receive(other, timeout=0.3) is None


def test_a_rolled_back_notification_never_reaches_the_socket(db, user_socket):
    recipient = UserFactory()
    ws = user_socket(recipient)
    receive(ws)

    notifications.notify([recipient], "system", "系统通知", "内容")
    db.session.rollback()

    assert receive(ws, timeout=0.5) is None


def test_a_task_change_reaches_the_department_and_the_page_watching_the_task(db, user_socket):
    department = DepartmentFactory()
    operator = UserFactory(roles=["operator"], departments=[department])
    admin = UserFactory(roles=["admin"])
    task = TaskFactory(department=department)
    operator_ws, admin_ws = user_socket(operator), user_socket(admin, topics=f"task:{task.id}")
    receive(operator_ws), receive(admin_ws)

    from app.realtime import events
    events.publish("task.updated", task=task)
    db.session.commit()

    assert receive_until(operator_ws, lambda m: m["type"] == "event")["topics"] == [f"dept:{department.id}"]
    assert receive_until(admin_ws, lambda m: m["type"] == "event")["topics"] == [f"task:{task.id}"]


def test_server_shutdown_closes_every_socket_with_1012(db, user_socket):
    ws = user_socket(UserFactory())
    receive(ws)
    assert wait_for(lambda: len(HUB.connections()) == 1)

    HUB.close_all(1012, "server restart")

    assert close_code(ws) == 1012


def test_a_closed_socket_leaves_the_hub(db, user_socket):
    ws = user_socket(UserFactory())
    receive(ws)
    assert wait_for(lambda: len(HUB.connections()) == 1)

    ws.close()

    assert wait_for(lambda: len(HUB.connections()) == 0, timeout=10)


def test_a_board_token_opens_a_socket_for_that_board_only(db, live_server):
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    token = board_service.issue_token(None, parent)
    db.session.commit()

    ws = connect(live_server.url, query={"board": parent.code, "token": token, "topics": "all user:1"})
    assert receive(ws)["topics"] == sorted([f"dept:{parent.id}", f"dept:{child.id}"])
    ws.close()

    wrong = connect(live_server.url, query={"board": parent.code, "token": "not-the-token"})
    assert close_code(wrong) == 4401


def test_connects_resyncs_and_disconnects_are_logged_at_debug(db, user_socket, caplog):
    import logging

    from app.realtime.hub import RESYNC

    caplog.set_level(logging.DEBUG, logger="app.realtime.socket")
    user = UserFactory()
    ws = user_socket(user)
    receive(ws)

    def connected() -> bool:  # this user's socket (one of an earlier test may still be closing)
        return any(connection.user_id == user.id for connection in HUB.connections())

    assert wait_for(connected)
    HUB.broadcast(RESYNC)
    assert receive(ws)["type"] == "resync"
    ws.close()
    assert wait_for(lambda: not connected(), timeout=10)

    # (a socket of an earlier test may close meanwhile: only this user's lines)
    records = [(r.levelname, r.getMessage()) for r in caplog.records
               if r.name == "app.realtime.socket" and getattr(r, "ws_user_id", None) == user.id]
    assert records == [("DEBUG", "websocket connected"), ("DEBUG", "websocket told to resync"),
                       ("DEBUG", "websocket disconnected")]
