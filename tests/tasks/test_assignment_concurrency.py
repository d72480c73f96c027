"""On PostgreSQL: twenty supervisors' assignments racing for an operator's last free slot."""
import pytest
from sqlalchemy import func, select

import factories as f
from app.models import AuditLog, Task
from support.concurrency import logged_in_client, race
from support.kiosk_world import build_world

pytestmark = pytest.mark.postgres


def test_twenty_assignments_to_an_operator_one_below_the_cap_exactly_one_wins(app, db):
    world = build_world()
    f.SettingFactory(key="operator_task_cap", value=3)
    for _ in range(2):
        f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator)
    tasks = [f.TaskFactory(step=world.print_step, department=world.printing) for _ in range(20)]
    db.session.commit()
    requests = [(logged_in_client(app, world.supervisor), f"/tasks/{task.id}/assign",
                 {"operator_id": world.operator.id, "version": task.version}) for task in tasks]

    results = race(app, requests)

    assert sorted(status for status, _ in results) == [200] + [409] * 19
    assert {message for status, message in results if status == 409} == {"已达任务上限 3/3"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.operator_id == world.operator.id)) == 3
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "assign")) == 1
