"""Assignment service (DOMAIN.md §7): every rule enforced, exact messages, nothing written on refusal."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import factories as f
from app.extensions import db
from app.models import AuditLog, Notification, TimeLog
from app.services.core.errors import Conflict, Forbidden, Invalid
from app.services.dispatch import assignment
from app.utils.timeutil import utcnow
from support.kiosk_world import reload


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def run(action, *args, **kwargs):
    result = getattr(assignment, action)(*args, **kwargs)
    db.session.commit()
    return result


def refused(error_type, action, *args, **kwargs):
    with pytest.raises(error_type) as caught:
        getattr(assignment, action)(*args, **kwargs)
    db.session.rollback()
    return caught.value.message


def audit_rows(task):
    return [(row.action, row.reason, row.detail) for row in db.session.scalars(
        select(AuditLog).where(AuditLog.task_id == task.id).order_by(AuditLog.id))]


def notices(user):
    return [(n.type, n.title) for n in db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.id))]


def test_supervisor_assigns_a_task_of_their_department(world):
    task = run("assign", world.task.id, world.operator.id, world.supervisor, 1)

    assert (reload(task).operator_id, task.version) == (world.operator.id, 2)
    assert audit_rows(task) == [("assign", "", {"from_operator_id": None, "to_operator_id": world.operator.id})]
    assert notices(world.operator) == [("task_assigned", "新任务分配：印刷：彩盒面纸 四色")]


def test_head_of_parent_department_and_admin_may_assign(world):
    run("assign", world.task.id, world.operator.id, world.head_supervisor, 1)
    run("assign", world.task.id, world.other_operator.id, world.admin, 2)
    assert reload(world.task).operator_id == world.other_operator.id
    assert [row[0] for row in audit_rows(world.task)] == ["assign", "reassign"]


def test_supervisor_of_another_department_is_refused_and_nothing_changes(world):
    message = refused(Forbidden, "assign", world.task.id, world.operator.id, world.other_supervisor, 1)
    assert message == "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"
    task = reload(world.task)
    assert (task.operator_id, task.version, audit_rows(task)) == (None, 1, [])


def test_operator_outside_the_task_department_is_refused(world):
    message = refused(Invalid, "assign", world.task.id, world.outsider.id, world.supervisor, 1)
    assert message == "操作员 黄师傅 不属于部门 印刷车间，无法分配该部门的任务"
    assert reload(world.task).operator_id is None


def test_member_without_the_operator_role_is_refused(world):
    message = refused(Invalid, "assign", world.task.id, world.supervisor.id, world.admin, 1)
    assert message == "操作员 孙印刷 不属于部门 印刷车间，无法分配该部门的任务"


def test_inactive_operator_is_refused(world):
    world.operator.is_active = False
    db.session.commit()
    assert refused(Invalid, "assign", world.task.id, world.operator.id, world.supervisor, 1) == "操作员 刘师傅 已停用"


def test_stale_version_is_a_conflict(world):
    message = refused(Conflict, "assign", world.task.id, world.operator.id, world.supervisor, 7)
    assert message == "任务已被其他人更新，请刷新后重试"
    assert reload(world.task).version == 1


def test_cap_refusal_message(world):
    f.SettingFactory(key="operator_task_cap", value=2)
    for _ in range(2):
        f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator)
    db.session.commit()
    assert refused(Conflict, "assign", world.task.id, world.operator.id, world.supervisor, 1) == "已达任务上限 2/2"
    assert reload(world.task).operator_id is None


@pytest.mark.parametrize("wo_status, message", [("paused", "施工单已暂停"), ("cancelled", "施工单已取消")])
def test_paused_or_cancelled_work_order_refuses(world, wo_status, message):
    world.work_order.status = wo_status
    db.session.commit()
    assert refused(Conflict, "assign", world.task.id, world.operator.id, world.supervisor, 1) == message


def test_completed_task_cannot_be_assigned(world):
    world.task.status = "completed"
    db.session.commit()
    assert refused(Conflict, "assign", world.task.id, world.operator.id, world.supervisor, 1) == "任务状态为已完成，不能分配"


def started(world):
    run("assign", world.task.id, world.operator.id, world.supervisor, 1)
    from app.services.tasks import actions as tasks
    tasks.start(world.task, world.operator, 2)
    db.session.commit()
    return reload(world.task)


def test_reassigning_a_started_task_needs_a_reason_and_notifies_both(world):
    task = started(world)
    message = refused(Invalid, "assign", task.id, world.other_operator.id, world.supervisor, task.version)
    assert message == "改派已开始的任务需要填写原因"
    assert reload(task).operator_id == world.operator.id

    db.session.execute(update(TimeLog).where(TimeLog.task_id == task.id)
                       .values(started_at=utcnow() - timedelta(minutes=12)))
    db.session.commit()
    run("assign", task.id, world.other_operator.id, world.supervisor, task.version, reason="刘师傅请假")

    task = reload(task)
    assert (task.operator_id, task.status) == (world.other_operator.id, "in_progress")
    assert task.worked_seconds == 720  # the first operator's period, closed by the reassignment
    assert audit_rows(task)[-1] == ("reassign", "刘师傅请假",
                                    {"from_operator_id": world.operator.id, "to_operator_id": world.other_operator.id})
    assert notices(world.operator)[-1] == ("task_reassigned", "任务已改派：印刷：彩盒面纸 四色")
    assert notices(world.other_operator)[-1] == ("task_reassigned", "新任务分配：印刷：彩盒面纸 四色")
    open_logs = db.session.scalars(select(TimeLog.operator_id).where(TimeLog.task_id == task.id,
                                                                     TimeLog.ended_at.is_(None))).all()
    assert open_logs == [world.other_operator.id]


def test_unassign_makes_the_task_claimable_again(world):
    run("assign", world.task.id, world.operator.id, world.supervisor, 1)
    run("unassign", world.task.id, world.supervisor, 2)
    task = reload(world.task)
    assert (task.operator_id, task.status, task.version) == (None, "pending", 3)
    assert audit_rows(task)[-1] == ("unassign", "", {"from_operator_id": world.operator.id})


def test_unassigning_a_started_task_needs_a_reason(world):
    task = started(world)
    assert refused(Invalid, "unassign", task.id, world.supervisor, task.version) == "取消已开始任务的分配需要填写原因"
    run("unassign", task.id, world.supervisor, task.version, reason="换人")
    task = reload(task)
    assert (task.operator_id, task.status) == (None, "pending")
    assert db.session.scalar(select(TimeLog.id).where(TimeLog.task_id == task.id, TimeLog.ended_at.is_(None))) is None


def test_unassigning_an_unassigned_task_is_refused(world):
    assert refused(Conflict, "unassign", world.task.id, world.supervisor, 1) == "任务尚未分配操作员"


def test_move_needs_a_reason_and_a_department_that_handles_the_process(world):
    process = world.print_step.process
    assert refused(Invalid, "move", world.task.id, world.die_cutting.id, world.head_supervisor, 1, "") == "转移部门需要填写原因"
    assert refused(Invalid, "move", world.task.id, world.die_cutting.id, world.head_supervisor, 1, "赶工") == "该部门不处理此工序"
    world.die_cutting.processes.append(process)
    run("assign", world.task.id, world.operator.id, world.supervisor, 1)

    run("move", world.task.id, world.die_cutting.id, world.supervisor, 2, "赶工")

    task = reload(world.task)
    assert (task.department_id, task.operator_id, task.status) == (world.die_cutting.id, None, "pending")
    assert audit_rows(task)[-1] == ("move", "赶工", {"from_department_id": world.printing.id,
                                                    "to_department_id": world.die_cutting.id,
                                                    "from_operator_id": world.operator.id})


def test_bulk_assign_reports_each_task(world):
    outside = world.die_task
    cancelled = f.TaskFactory(step=world.print_step, department=world.printing, status="cancelled", number="T-C")
    db.session.commit()

    results = run("bulk_assign", [world.task.id, outside.id, cancelled.id, 99999], world.operator.id, world.supervisor)

    assert [(r.task_id, r.ok, r.message) for r in results] == [
        (world.task.id, True, "已分配给 刘师傅"),
        (outside.id, False, "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"),
        (cancelled.id, False, "任务已取消"),
        (99999, False, "任务不存在"),
    ]
    assert reload(world.task).operator_id == world.operator.id
    assert reload(outside).operator_id is None


def test_dispatch_from_pool(world):
    world.printing.processes.append(world.print_step.process)
    pool_task = f.TaskFactory(step=world.print_step, department=None, number="T-POOL")
    other = f.TaskFactory(step=world.die_step, department=None, number="T-POOL2")
    db.session.commit()

    results = run("dispatch_from_pool", [pool_task.id, other.id, world.task.id], world.printing.id, world.supervisor)

    assert [(r.task_id, r.ok, r.message) for r in results] == [
        (pool_task.id, True, "已分派到 印刷车间"),
        (other.id, False, "该部门不处理此工序"),
        (world.task.id, False, "任务已分派到 印刷车间"),
    ]
    assert reload(pool_task).department_id == world.printing.id
    assert reload(other).department_id is None
    assert audit_rows(pool_task)[-1][0] == "dispatch"


def test_operator_cannot_dispatch_from_pool(world):
    pool_task = f.TaskFactory(step=world.print_step, department=None)
    db.session.commit()
    assert refused(Forbidden, "dispatch_from_pool", [pool_task.id], world.printing.id, world.operator) == "只有管理员和部门主管可以分派待分派的任务"
