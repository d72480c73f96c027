"""The claimable hint (issue #22): an event tells whether its task was or is claimable, so the 可认领
list of every other kiosk may skip a change it cannot show (static/js/live.js, data-live-skip)."""
from app.realtime import events
from app.realtime.hub import Connection, Hub
from support.concurrency import logged_in_client
from support.kiosk_world import build_world


def post(client, path, **form):
    """As a server's request does it: its own session, which loads the task afresh."""
    from flask import g

    from app.extensions import db

    db.session.commit()
    db.session.expunge_all()
    g.pop("_login_user", None)  # the test's app context is every request's: forget the last one's user
    response = client.post(path, data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def task_events(received):
    return [e for e in received if e["type"] == "task.updated"]


def test_a_claim_is_claimable_news_and_the_work_after_it_is_not(app, db, announced):
    world = build_world()

    task_id, version, kiosk = world.task.id, world.task.version, logged_in_client(app, world.operator)
    delivery = world.work_order.delivery_date.isoformat()
    post(kiosk, f"/tasks/{task_id}/claim", version=version)
    claimed = task_events(announced())
    post(kiosk, f"/tasks/{task_id}/start", version=version + 1)
    started = task_events(announced())[len(claimed):]

    assert [e["claimable"] for e in claimed] == ["left"]  # its card leaves every 可认领 list, nothing else
    assert [e["claimable"] for e in started] == [False]
    # where it stood in those lists: its 施工单's priority rank (high) and delivery date
    assert claimed[0]["order"] == [2, delivery] and "order" not in started[0]


def test_a_task_given_back_to_the_pool_is_claimable_news(app, db, announced):
    world = build_world()
    task_id, version = world.task.id, world.task.version
    supervisor = logged_in_client(app, world.supervisor)
    post(supervisor, f"/tasks/{task_id}/assign", operator_id=world.operator.id, version=version)
    assigned = task_events(announced())
    post(supervisor, f"/tasks/{task_id}/unassign", version=version + 1, reason="换人")
    released = task_events(announced())[len(assigned):]

    assert [e["claimable"] for e in assigned] == ["left"]
    assert [e["claimable"] for e in released] == [True]  # a card comes: the lists re-fetch


def test_an_event_without_a_task_carries_no_hint(db, announced):
    world = build_world()
    events.publish("work_order.updated", work_order=world.work_order, department_ids=[world.printing.id])
    db.session.commit()

    [payload] = [e for e in announced() if e["type"] == "work_order.updated"]
    assert "claimable" not in payload


def test_the_hub_passes_on_only_a_hint_that_allows_a_skip():
    hub = Hub()
    connection = Connection(7, {"dept:3"})
    hub.register(connection)
    base = {"type": "task.updated", "id": "1-1", "task_id": 5, "work_order_id": None, "department_ids": [3],
            "user_ids": []}

    for claimable in (False, True, None, "left"):
        hub.dispatch(dict(base, claimable=claimable))

    messages = [connection.next(0) for _ in range(4)]
    assert [dict(m) for m in messages] == [
        {"type": "event", "event": "task.updated", "id": "1-1", "topics": ["dept:3"], "claimable": False},
        {"type": "event", "event": "task.updated", "id": "1-1", "topics": ["dept:3"]},
        {"type": "event", "event": "task.updated", "id": "1-1", "topics": ["dept:3"]},
        {"type": "event", "event": "task.updated", "id": "1-1", "topics": ["dept:3"], "claimable": "left", "task": 5},
    ]


def test_the_task_that_left_is_named_only_to_the_department_channels_whose_kiosks_list_it():
    hub = Hub()
    kiosk = Connection(7, {"user:7", "dept:3"})
    work_order_page = Connection(8, {"user:8", "wo:2"})
    for connection in (kiosk, work_order_page):
        hub.register(connection)

    hub.dispatch({"type": "task.claimed", "id": "1-1", "task_id": 5, "work_order_id": 2, "department_ids": [3],
                  "user_ids": [11], "claimable": "left", "order": [1, "2026-12-20"]})

    assert dict(kiosk.next(0)) == {"type": "event", "event": "task.claimed", "id": "1-1", "topics": ["dept:3"],
                                   "claimable": "left", "task": 5, "order": [1, "2026-12-20"]}
    assert dict(work_order_page.next(0)) == {"type": "event", "event": "task.claimed", "id": "1-1", "topics": ["wo:2"]}


# ---- the 主管看板's parts (docs/LIVE.md §6): an event names the columns it touches, to the board's viewers only

def board_events(received, since=0):
    return [e["board_parts"] for e in task_events(received)[since:]]


def test_an_assignment_names_exactly_the_two_columns_it_touches_and_the_head(app, db, announced):
    world = build_world()
    printing, op, other = world.printing.id, world.operator.id, world.other_operator.id
    task_id, version = world.task.id, world.task.version
    supervisor, kiosk = logged_in_client(app, world.supervisor), logged_in_client(app, world.operator)

    post(supervisor, f"/tasks/{task_id}/assign", operator_id=op, version=version)
    assigned = board_events(announced())
    post(supervisor, f"/tasks/{task_id}/assign", operator_id=other, version=version + 1, reason="")
    reassigned = board_events(announced(), len(assigned))
    post(supervisor, f"/tasks/{task_id}/assign", operator_id=op, version=version + 2, reason="")
    post(kiosk, f"/tasks/{task_id}/start", version=version + 3)
    started = board_events(announced(), len(assigned) + 2)
    post(kiosk, f"/tasks/{task_id}/report", version=version + 4, good="400", defective="", defect_reason="", note="")
    reported = board_events(announced(), len(assigned) + 3)

    assert assigned == [sorted([f"{printing}:{op}", f"{printing}:none", f"{printing}:head"])]
    assert reassigned == [sorted([f"{printing}:{op}", f"{printing}:{other}", f"{printing}:head"])]
    assert started == [sorted([f"{printing}:{op}", f"{printing}:head"])]
    assert reported == [[f"{printing}:{op}"]]  # the card's figures only: no count, no load changed


def test_the_parts_reach_the_boards_viewers_only():
    hub = Hub()
    board = Connection(7, {"user:7", "dept:3", "board:3"})
    kiosk = Connection(9, {"user:9", "dept:3"})
    other_board = Connection(8, {"user:8", "dept:4", "board:4"})
    for connection in (board, kiosk, other_board):
        hub.register(connection)
    payload = {"type": "task.updated", "id": "1-1", "task_id": 5, "work_order_id": 2, "department_ids": [3],
               "user_ids": [11], "claimable": True, "board_parts": ["3:11", "3:head", "3:none"]}

    hub.dispatch(payload)

    assert dict(board.next(0)) == {"type": "event", "event": "task.updated", "id": "1-1",
                                   "topics": ["board:3", "dept:3"], "parts": ["3:11", "3:head", "3:none"]}
    assert dict(kiosk.next(0)) == {"type": "event", "event": "task.updated", "id": "1-1", "topics": ["dept:3"]}
    assert other_board.next(0) is None


def test_an_event_without_parts_reaches_the_board_without_them():
    """A 施工单 paused: every card of its tasks may show it, so every part of the board refreshes."""
    hub = Hub()
    board = Connection(7, {"board:3"})
    hub.register(board)
    hub.dispatch({"type": "work_order.paused", "id": "1-2", "task_id": None, "work_order_id": 2,
                  "department_ids": [3], "user_ids": [11]})
    hub.dispatch({"type": "planning.updated", "id": "1-3", "task_id": None, "work_order_id": None,
                  "department_ids": [3], "user_ids": []})

    assert dict(board.next(0)) == {"type": "event", "event": "work_order.paused", "id": "1-2", "topics": ["board:3"]}
    assert board.next(0) is None  # the plan is not on the board


# ---- an approval: the tasks new to the 可认领 lists, per department, with their 施工单's place (live.js arrivedInPlace)

def test_an_approval_names_each_department_s_new_claimable_tasks_their_place_and_the_board_parts(seeded, announced):
    from app.enums import PRIORITY_RANK
    from app.extensions import db
    from app.services.workorders import approval
    from support.workorders import build_plant, create, tasks_of

    plant = build_plant(seeded)
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    before = len(announced())
    approval.approve(plant.sales, work_order.id, work_order.version)
    db.session.commit()

    [payload] = [e for e in announced() if e["type"] == "work_order.approved"]
    claimable = {}
    for task in tasks_of(work_order.id):
        if task.status == "pending" and task.operator_id is None and task.department_id is not None:
            claimable.setdefault(str(task.department_id), []).append(task.id)
    assert len(claimable) >= 2 and payload["claimable_arrived"] == {
        "order": [PRIORITY_RANK[work_order.priority], work_order.delivery_date.isoformat()], "tasks": claimable}
    departments = payload["department_ids"]
    assert sorted(int(d) for d in claimable) == departments
    # each department's 主管看板: the new tasks join 未分配 and the head's counts (no rule chose an operator)
    assert set(payload["board_parts"]) == {f"{d}:{part}" for d in departments for part in ("head", "none")}
    assert events.parts_for(payload, {f"board:{departments[0]}"}) == [f"{departments[0]}:head", f"{departments[0]}:none"]
    # and nothing else says so: a second event without a task would make every kiosk fetch its list after all
    assert [e["type"] for e in announced()[before:] if e["type"].startswith(("task.", "work_order."))] == [
        "work_order.approved"]


def test_an_approval_names_the_column_of_an_operator_a_rule_chose(seeded, announced):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AssignmentRule, Department, Process
    from app.services.workorders import approval
    from support.workorders import build_plant, create, tasks_of

    plant = build_plant(seeded)
    printing = db.session.scalar(select(Department).where(Department.name == "印刷车间"))
    db.session.scalar(select(AssignmentRule).join(Process, Process.id == AssignmentRule.process_id).where(
        Process.code == "PRT", AssignmentRule.department_id == printing.id)).operator_strategy = "least_tasks"
    db.session.commit()
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    approval.approve(plant.sales, work_order.id, work_order.version)
    db.session.commit()

    [payload] = [e for e in announced() if e["type"] == "work_order.approved"]
    [chosen] = [t for t in tasks_of(work_order.id) if t.operator_id is not None]
    assert chosen.department_id == printing.id
    assert f"{printing.id}:{chosen.operator_id}" in payload["board_parts"] and chosen.operator_id in payload["user_ids"]
    assert chosen.id not in payload["claimable_arrived"]["tasks"].get(str(printing.id), [])


def test_the_arrivals_reach_each_department_s_kiosks_with_only_their_own_tasks():
    hub = Hub()
    printing_kiosk = Connection(7, {"user:7", "dept:3"})
    two_workshops = Connection(8, {"user:8", "dept:3", "dept:4"})
    other_workshop = Connection(9, {"user:9", "dept:5", "wo:2"})
    for connection in (printing_kiosk, two_workshops, other_workshop):
        hub.register(connection)

    hub.dispatch({"type": "work_order.approved", "id": "1-1", "task_id": None, "work_order_id": 2,
                  "department_ids": [3, 4], "user_ids": [],
                  "claimable_arrived": {"order": [1, "2026-12-20"], "tasks": {"3": [41, 40], "4": [42]}}})

    base = {"type": "event", "event": "work_order.approved", "id": "1-1", "claimable": "arrived",
            "order": [1, "2026-12-20"]}
    assert dict(printing_kiosk.next(0)) == {**base, "topics": ["dept:3"], "arrived": [40, 41]}
    assert dict(two_workshops.next(0)) == {**base, "topics": ["dept:3", "dept:4"], "arrived": [40, 41, 42]}
    # the 施工单 page of a viewer outside those workshops: no ids of tasks its kiosks list
    assert dict(other_workshop.next(0)) == {"type": "event", "event": "work_order.approved", "id": "1-1",
                                            "topics": ["wo:2"]}


def test_no_arrivals_are_named_when_there_are_too_many(db):
    import factories as f

    world = build_world()
    tasks = [f.TaskFactory(step=world.print_step, department=world.printing, status="pending")
             for _ in range(events.MAX_ARRIVALS + 1)]
    assert events.claimable_arrivals(world.work_order, tasks) is None
    assert events.claimable_arrivals(world.work_order, tasks[:2])["tasks"] == {
        str(world.printing.id): [tasks[0].id, tasks[1].id]}
