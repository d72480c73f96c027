"""Races on real row locks: one claim winner among 30, and the cap holding under simultaneous claims."""
import pytest
from sqlalchemy import func, select

import factories as f
from app.models import AuditLog, Task
from support.concurrency import logged_in_client, race
from support.kiosk_world import build_world, reload

pytestmark = pytest.mark.postgres


def test_thirty_operators_claim_one_task_and_exactly_one_wins(app, db):
    world = build_world()
    operators = [f.UserFactory(roles=["operator"], departments=[world.printing]) for _ in range(30)]
    url, form = f"/tasks/{world.task.id}/claim", {"version": world.task.version}

    results = race(app, [(logged_in_client(app, op), url, form) for op in operators])

    task = reload(world.task)
    winner = next(op for op in operators if op.id == task.operator_id)
    assert sorted(status for status, _ in results) == [200] + [409] * 29
    assert [message for status, message in results if status == 200] == ["认领成功"]
    assert {message for status, message in results if status == 409} == {f"该任务已被 {winner.name} 认领"}
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.task_id == task.id, AuditLog.action == "claim")) == 1
    assert task.version == 2


def test_simultaneous_claims_by_one_operator_respect_the_cap(app, db):
    world = build_world()
    f.SettingFactory(key="operator_task_cap", value=3)
    tasks = [f.TaskFactory(step=world.print_step, department=world.printing) for _ in range(8)]
    client_requests = [(logged_in_client(app, world.operator), f"/tasks/{task.id}/claim", {"version": task.version})
                       for task in tasks]

    results = race(app, client_requests)

    assert sorted(status for status, _ in results) == [200] * 3 + [409] * 5
    assert {message for status, message in results if status == 409} == {"已达任务上限 3/3"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.operator_id == world.operator.id)) == 3


def test_reports_finishing_steps_of_one_work_order_at_once_all_succeed(app, db):
    """Each report refers to the 施工单 (its audit row: FOR KEY SHARE) before it locks the 施工单 to roll
    its step up; with FOR UPDATE those locks deadlocked and PostgreSQL failed all but one (a 500)."""
    world = build_world()
    steps = [f.WorkOrderStepFactory(work_order=world.work_order, sequence=40 + i, status="in_progress",
                                    process=f.ProcessFactory(code=f"P{i}", name=f"工序{i}", sort_order=40 + i))
             for i in range(6)]
    tasks = [f.TaskFactory(step=step, department=world.printing, operator=world.operator, status="in_progress",
                           target_quantity=100) for step in steps]
    client_requests = [(logged_in_client(app, world.operator), f"/tasks/{task.id}/report",
                        {"version": task.version, "good": 100, "defective": 0}) for task in tasks]

    results = race(app, client_requests)

    assert [status for status, _ in results] == [200] * 6, results
    db.session.expire_all()
    assert [reload(task).status for task in tasks] == ["completed"] * 6
    assert [reload(step).status for step in steps] == ["completed"] * 6
