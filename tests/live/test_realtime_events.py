"""Events are announced once, on commit only — via NOTIFY on PostgreSQL, in-process on SQLite."""
import json
import threading

import psycopg
import pytest

from app.realtime import events
from app.realtime.listener import conninfo_for
from factories import DepartmentFactory, TaskFactory, UserFactory
from testkit.live import wait_for


def test_a_committed_change_is_announced_once_with_its_channels(db, announced):
    department = DepartmentFactory()
    operator = UserFactory()
    task = TaskFactory(department=department, operator=operator)

    events.publish("task.started", task=task, user_ids=[None])
    db.session.commit()

    [payload] = [e for e in announced() if e["type"] == "task.started"]
    assert payload["task_id"] == task.id
    assert payload["work_order_id"] == task.work_order_id
    assert payload["department_ids"] == [department.id]
    assert payload["user_ids"] == [operator.id]


def test_a_rolled_back_change_is_never_announced(db, announced):
    task = TaskFactory()
    events.publish("task.started", task=task)
    db.session.rollback()
    db.session.commit()  # a later, empty commit must not resurrect it

    assert [e for e in announced(0.3) if e["type"] == "task.started"] == []


def test_a_new_row_is_announced_with_the_id_it_got_at_flush(db, announced):
    template = TaskFactory()
    task = TaskFactory.build(step=template.step, work_order=template.work_order)
    db.session.add(task)
    payload = events.publish("task.created", task=task)
    assert payload["task_id"] is None  # not flushed yet
    db.session.commit()

    [announced_payload] = [e for e in announced() if e["type"] == "task.created"]
    assert announced_payload["task_id"] == task.id


def test_the_old_and_new_operator_both_hear_a_reassignment(db, announced):
    old, new = UserFactory(), UserFactory()
    task = TaskFactory(operator=old)
    task.operator = new
    db.session.flush()
    events.publish("task.reassigned", task=task, user_ids=[old.id])
    db.session.commit()

    [payload] = [e for e in announced() if e["type"] == "task.reassigned"]
    assert payload["user_ids"] == sorted([old.id, new.id])


@pytest.mark.postgres
def test_postgresql_announces_through_notify_and_never_in_process_after_commit(db, announced):
    in_process = []

    def on_commit_thread(payload):
        if threading.current_thread() is threading.main_thread():
            in_process.append(payload)

    events.subscribe(on_commit_thread)
    try:
        task = TaskFactory()
        events.publish("task.started", task=task)
        db.session.commit()
    finally:
        events.unsubscribe(on_commit_thread)

    assert [e["type"] for e in announced()] == ["task.started"]
    assert in_process == []


@pytest.mark.postgres
def test_postgresql_notify_is_not_sent_before_the_commit(db, announced):
    task = TaskFactory()
    events.publish("task.started", task=task)
    db.session.flush()
    assert announced(0.3) == []
    db.session.commit()
    assert [e["type"] for e in announced()] == ["task.started"]


def test_a_large_event_is_split_into_notify_sized_payloads():
    payload = {"id": "1-1", "type": "notification", "task_id": None, "work_order_id": None, "department_ids": [],
               "user_ids": list(range(1, 3001)), "at": "2026-11-20T08:00:00"}
    texts = events.notify_payloads(payload)
    assert len(texts) > 1
    assert all(len(text.encode()) <= events.MAX_NOTIFY_BYTES for text in texts)
    assert sorted(u for text in texts for u in json.loads(text)["user_ids"]) == payload["user_ids"]


@pytest.mark.postgres
def test_the_listener_reconnects_after_losing_its_connection_and_asks_for_a_resync(db):
    from app.metrics import LISTENER_DOWN, LISTENER_LAST_EVENT, LISTENER_RECONNECTS
    from app.realtime.listener import APPLICATION_NAME, Listener

    reconnects_before = LISTENER_RECONNECTS._value.get()
    received, resyncs = [], []
    listener = Listener(conninfo_for(db.engine.url), on_reconnect=lambda: resyncs.append(True),
                        deliver=received.append)
    listener.start()
    assert listener.listening.wait(5)
    with psycopg.connect(conninfo_for(db.engine.url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = %s AND pid <> pg_backend_pid()", [APPLICATION_NAME])

    assert wait_for(lambda: resyncs, timeout=10)  # reconnected (after a 1 s backoff) and asked for a resync
    assert listener.listening.wait(5)
    events.publish("task.started", task=TaskFactory())
    db.session.commit()
    assert wait_for(lambda: [e for e in received if e["type"] == "task.started"])
    # What /metrics and 系统状态 show of it (another listener of this process may have been cut off too).
    assert LISTENER_RECONNECTS._value.get() >= reconnects_before + 1
    assert wait_for(lambda: LISTENER_DOWN._value.get() == 0, timeout=10)
    assert listener.last_event_at and LISTENER_LAST_EVENT._value.get() >= listener.last_event_at - 1


def test_an_event_about_many_work_orders_is_split_by_them_when_too_large():
    payload = {"id": "1-2", "type": "planning.projection", "task_id": None, "work_order_id": None,
               "work_order_ids": list(range(1, 3001)), "department_ids": [], "user_ids": [7], "at": "2026-11-20T08:00:00"}
    texts = events.notify_payloads(payload)
    assert len(texts) > 1
    assert all(len(text.encode()) <= events.MAX_NOTIFY_BYTES for text in texts)
    assert sorted(w for text in texts for w in json.loads(text)["work_order_ids"]) == payload["work_order_ids"]
    assert all(json.loads(text)["user_ids"] == [7] for text in texts)
    assert events.channels_of(json.loads(texts[0])) >= {"wo:1", "user:7", "all", "pool"}
