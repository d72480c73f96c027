"""The per-process hub: subscribe, fan-out, isolation, slow consumers, disconnect cleanup."""
import json
import threading

from app.realtime import events
from app.realtime.hub import HUB, RESYNC, Close, Connection, Hub


def task_event(**overrides):
    payload = {"id": "1-1", "type": "task.updated", "task_id": 42, "work_order_id": 7, "department_ids": [3],
               "user_ids": [5], "at": "2026-11-20T08:00:00"}
    payload.update(overrides)
    return payload


def drain(connection):
    messages = []
    while (message := connection.next(timeout=0)) is not None:
        messages.append(message)
    return messages


def test_channels_of_a_task_event():
    assert events.channels_of(task_event()) == {"user:5", "dept:3", "board:3", "task:42", "wo:7", "all", "pool"}


def test_a_notification_event_reaches_only_its_users():
    payload = {"type": "notification", "task_id": None, "work_order_id": None, "department_ids": [], "user_ids": [5, 6]}
    assert events.channels_of(payload) == {"user:5", "user:6"}


def test_fan_out_to_every_subscriber_with_only_their_own_topics():
    hub = Hub()
    operator = Connection(5, {"user:5", "dept:3"})
    other_department = Connection(6, {"user:6", "dept:4"})
    watcher = Connection(9, {"user:9", "wo:7"})
    for connection in (operator, other_department, watcher):
        hub.register(connection)

    reached = hub.dispatch(task_event())

    assert reached == 2
    assert drain(operator) == [{"type": "event", "event": "task.updated", "id": "1-1", "topics": ["dept:3", "user:5"]}]
    assert drain(watcher) == [{"type": "event", "event": "task.updated", "id": "1-1", "topics": ["wo:7"]}]
    assert drain(other_department) == []


def test_one_connection_on_several_matching_channels_gets_the_event_once():
    hub = Hub()
    connection = Connection(5, {"user:5", "dept:3", "task:42", "all"})
    hub.register(connection)
    hub.dispatch(task_event())
    messages = drain(connection)
    assert len(messages) == 1
    assert messages[0]["topics"] == ["all", "dept:3", "task:42", "user:5"]


def test_a_slow_consumer_does_not_block_the_others():
    hub = Hub()
    stuck = Connection(1, {"dept:3"}, maxsize=4)  # never drained, like a kiosk whose network hangs
    healthy = Connection(2, {"dept:3"}, maxsize=200)
    hub.register(stuck)
    hub.register(healthy)

    dispatcher = threading.Thread(target=lambda: [hub.dispatch(task_event(id=f"1-{n}")) for n in range(100)])
    dispatcher.start()
    dispatcher.join(timeout=10)

    assert not dispatcher.is_alive()  # never waited on the stuck queue
    assert [m["id"] for m in drain(healthy)] == [f"1-{n}" for n in range(100)]
    # The stuck queue stayed bounded: its backlog was replaced by a resync, then the latest events.
    backlog = drain(stuck)
    assert backlog[0] == RESYNC
    assert [m["id"] for m in backlog[1:]] == [f"1-{n}" for n in range(100 - len(backlog) + 1, 100)]
    assert stuck.overflows > 0


def test_overflow_replaces_the_backlog_with_a_single_resync():
    connection = Connection(1, {"dept:3"}, maxsize=3)
    for number in range(4):
        connection.offer({"n": number})
    assert drain(connection) == [RESYNC]


def test_close_goes_ahead_of_queued_messages_and_survives_overflow():
    connection = Connection(1, {"dept:3"}, maxsize=2)
    connection.offer({"n": 1})
    connection.close(1012, "server restart")
    connection.offer({"n": 2})
    connection.offer({"n": 3})  # overflow: the close is kept, the events dropped
    assert drain(connection) == [Close(1012, "server restart")]


def test_disconnect_cleanup_forgets_the_connection_and_empty_channels():
    hub = Hub()
    first = Connection(5, {"user:5", "dept:3"})
    second = Connection(6, {"user:6", "dept:3"})
    hub.register(first)
    hub.register(second)

    hub.unregister(first)

    assert hub.connections() == [second]
    assert hub.channel_count() == 2  # user:6 and dept:3; user:5 is gone
    assert hub.dispatch(task_event(user_ids=[5], department_ids=[])) == 0
    assert drain(first) == []


def test_close_all_asks_every_writer_to_close():
    hub = Hub()
    connections = [Connection(n, {f"user:{n}"}) for n in range(3)]
    for connection in connections:
        hub.register(connection)
    hub.close_all(1012, "server restart")
    assert [drain(c) for c in connections] == [[Close(1012, "server restart")]] * 3


def test_the_process_hub_listens_to_delivered_events():
    connection = Connection(77, {"user:77"})
    HUB.register(connection)
    try:
        events.deliver({"type": "notification", "user_ids": [77], "department_ids": []})
        assert drain(connection) == [{"type": "event", "event": "notification", "id": None, "topics": ["user:77"]}]
    finally:
        HUB.unregister(connection)



def test_sockets_told_the_same_channels_share_one_message_encoded_once():
    hub = Hub()
    kiosks = [Connection(5, {"user:5", "dept:3"}) for _ in range(3)]
    board = Connection(None, {"dept:3"})
    for connection in (*kiosks, board):
        hub.register(connection)
    hub.dispatch(task_event())
    (first,), (second,), (third,) = (drain(kiosk) for kiosk in kiosks)
    (seen_by_board,) = drain(board)
    assert first is second is third
    assert first["topics"] == ["dept:3", "user:5"] and seen_by_board["topics"] == ["dept:3"]
    assert first.text is first.text
    assert json.loads(first.text) == {"type": "event", "event": "task.updated", "id": "1-1",
                                      "topics": ["dept:3", "user:5"]}
    assert json.loads(seen_by_board.text)["topics"] == ["dept:3"]
