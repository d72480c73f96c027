"""`flask demo --scale N` (app/scale_demo.py): the counts it promises and a plant the services could have left."""
from collections import Counter as Tally

import pytest
from sqlalchemy import func, select

from app import scale_demo
from app.models import Counter, Task, TimeLog, User, WorkOrder, WorkOrderStep
from app.seed import DEMO_USERS
from app.services.core import numbering
from app.services.core import settings as settings_service

SCALE = 0.01  # 50 施工单


@pytest.fixture()
def plant(demo_plant):
    return scale_demo.build(SCALE)


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_counts_scale_with_n(db, plant):
    # 1% of 5,000 施工单 × 10 tasks; people: 8 operators (the least), a supervisor, a maker, a salesperson.
    assert (plant["work_orders"], plant["tasks"], plant["people"]) == (50, 500, 11)
    assert len(_scaled_tasks(db)) == 500
    assert _count(db, User, User.username.like("scale_%")) == 11
    # Besides the demo history's own work periods (made before the scaled plant).
    scaled_operators = select(User.id).where(User.username.like("scale_%"))
    assert _count(db, TimeLog, TimeLog.operator_id.in_(scaled_operators)) == plant["time_logs"]


def test_demo_logins_exist_alongside(db, plant):
    usernames = set(db.session.scalars(select(User.username).where(User.password_hash != "")))
    assert {spec[0] for spec in DEMO_USERS} <= usernames


def _scaled_tasks(db) -> list[Task]:
    makers = select(User.id).where(User.username.like("scale_maker%"))
    return list(db.session.scalars(select(Task).join(WorkOrder).where(WorkOrder.created_by_id.in_(makers))))


def test_task_status_matches_quantities_times_and_operators(db, plant):
    tasks = _scaled_tasks(db)
    assert len(tasks) == 500
    for task in tasks:
        expected = {"completed": task.target_quantity, "draft": 0, "pending": 0, "cancelled": 0}
        if task.status in expected:
            assert task.completed_quantity == expected[task.status], task.number
        else:
            assert 0 < task.completed_quantity < task.target_quantity, task.number
        assert (task.status == "completed") == (task.completed_at is not None), task.number
        assert (task.status in ("completed", "in_progress", "paused")) == (task.started_at is not None)
        if task.started_at:
            assert task.dispatched_at <= task.started_at <= (task.completed_at or task.started_at)
            assert task.operator_id is not None
        if task.department_id is None:  # a draft, or pending in the 待分派 pool
            assert task.status in ("draft", "pending") and task.operator_id is None, task.number
    cap = settings_service.get("operator_task_cap")
    held = Tally(t.operator_id for t in tasks if t.operator_id and t.status in ("pending", "in_progress", "paused"))
    assert max(held.values(), default=0) <= scale_demo.HELD_PER_OPERATOR < cap


def test_time_logs_are_closed_except_the_running_period(db, plant):
    tasks = {t.id: t for t in _scaled_tasks(db)}
    logs = [log for log in db.session.scalars(select(TimeLog)) if log.task_id in tasks]
    by_task = Tally(log.task_id for log in logs)
    worked = {i for i, t in tasks.items() if t.status in ("completed", "in_progress", "paused")}
    assert set(by_task) == worked and set(by_task.values()) == {1}
    for log in logs:
        task = tasks[log.task_id]
        assert log.operator_id == task.operator_id
        assert (log.ended_at is None) == (task.status == "in_progress"), task.number
        if log.ended_at is not None:
            assert log.started_at <= log.ended_at
    closed = {log.task_id: log.duration_seconds for log in logs if log.ended_at is not None}
    worked_seconds = {i: t.worked_seconds for i, t in tasks.items() if t.worked_seconds is not None}
    assert worked_seconds == closed


def test_steps_and_work_orders_roll_up_from_their_tasks(db, plant):
    makers = select(User.id).where(User.username.like("scale_maker%"))
    orders = db.session.scalars(select(WorkOrder).where(WorkOrder.created_by_id.in_(makers))).all()
    states = Tally()
    for order in orders:
        step_statuses = []
        for step in db.session.scalars(select(WorkOrderStep).where(WorkOrderStep.work_order_id == order.id)):
            statuses = {t.status for t in step.tasks if t.status != "draft"}
            if statuses and statuses <= {"completed", "cancelled"}:
                expected = "completed" if "completed" in statuses else "skipped"
            elif any(t.started_at for t in step.tasks):
                expected = "in_progress"
            else:
                expected = "pending"
            assert step.status == expected, (order.number, step.sequence)
            step_statuses.append(step.status)
        if order.approval_status != "approved":
            assert (order.status, order.approved_at) == ("pending", None)
        elif set(step_statuses) <= {"completed", "skipped"}:
            assert order.status == "completed" and order.completed_at is not None
        else:
            assert order.status == "in_progress" and order.completed_at is None
        states[order.status] += 1
    assert {"in_progress", "completed"} <= set(states)  # 90 days: running and finished


def test_numbers_continue_the_monthly_counters(db, plant):
    latest = db.session.scalar(select(Counter).order_by(Counter.key.desc()).where(Counter.key.like("SG%")))
    taken = set(db.session.scalars(select(WorkOrder.number)))
    assert f"{latest.key}{latest.value:04d}" in taken
    assert numbering.monthly_code("SG", 4) not in taken


def test_refuses_to_build_twice(db, plant):
    with pytest.raises(scale_demo.AlreadyBuilt):
        scale_demo.build(SCALE)
    assert _count(db, WorkOrder, WorkOrder.created_by_id.in_(
        select(User.id).where(User.username.like("scale_maker%")))) == 50


def test_cli_reports_counts_and_refuses_clearly(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--scale", str(SCALE)])
    assert first.exit_code == 0, first.output
    assert "规模演示数据 / scaled plant: 50 施工单, 500 tasks, 11 people" in first.output
    again = runner.invoke(args=["demo", "--scale", str(SCALE)])
    assert again.exit_code == 1
    assert "规模演示数据已存在，未做任何更改" in again.output
