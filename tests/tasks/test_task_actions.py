"""Task actions at the service level: the walk-through, every refusal, double taps, roll-up, automatic completion."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

import factories as f
from app.models import AuditLog, Notification, Task, TimeLog
from app.services.core.errors import Conflict, Forbidden, Invalid
from app.services.tasks import actions as tasks
from app.services.tasks import auto_complete as task_auto_complete
from app.services.tasks import progress as task_progress
from app.services.tasks import reading as task_reading
from app.utils.timeutil import utcnow
from support.kiosk_world import build_world, reload


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def act(action, task, user, **kwargs):
    """Run one action the way a request does: the version the card showed, one commit."""
    from app.extensions import db

    outcome = getattr(tasks, action)(task, user, kwargs.pop("version", task.version), **kwargs)
    db.session.commit()
    return outcome


def claimed(world, user=None):
    act("claim", world.task, user or world.operator)
    return world.task


def started(world):
    claimed(world)
    act("start", world.task, world.operator)
    return world.task


def reported(world, good):
    started(world)
    act("report", world.task, world.operator, good=good)
    return world.task


def audit_actions(task):
    from app.extensions import db

    return list(db.session.scalars(select(AuditLog.action).where(AuditLog.task_id == task.id).order_by(AuditLog.id)))


def notifications_of(user):
    from app.extensions import db

    return [(n.type, n.title) for n in db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.id))]


def test_walk_through_claim_start_pause_resume_report_to_completion(db, world):
    task, operator = world.task, world.operator

    assert act("claim", task, operator).message == "认领成功"
    assert task.operator_id == operator.id and task.status == "pending"
    act("start", task, operator)
    assert task.status == "in_progress" and task.started_at is not None
    assert reload(world.print_step).status == "in_progress"
    act("pause", task, operator, reason="equipment", note="主电机异响")
    assert (task.status, task.pause_reason, task.pause_note) == ("paused", "equipment", "主电机异响")
    act("resume", task, operator)
    assert task.status == "in_progress" and task.pause_reason is None

    outcome = act("report", task, operator, good=600, defective=12, defect_reason="套色不准")
    assert outcome.message == "报工成功：600 / 1000"
    assert (task.status, task.completed_quantity, task.defective_quantity) == ("in_progress", 600, 12)
    outcome = act("report", task, operator, good=400)
    assert outcome.message == "报工成功，任务已完成"
    assert (task.status, task.completed_quantity, task.defective_quantity) == ("completed", 1000, 12)
    assert task.completed_at is not None

    step = reload(world.print_step)
    assert step.status == "completed" and step.completed_at is not None
    assert reload(world.work_order).status == "in_progress"  # 模切 is still to do
    assert audit_actions(task) == ["claim", "start", "pause", "resume", "report", "report"]
    logs = db.session.scalars(select(TimeLog).where(TimeLog.task_id == task.id).order_by(TimeLog.id)).all()
    assert len(logs) == 2 and all(log.ended_at is not None and log.operator_id == operator.id for log in logs)

    task_done = ("task_completed", "任务完成：印刷：彩盒面纸 四色")
    assert notifications_of(world.supervisor) == [task_done]
    assert notifications_of(world.head_supervisor) == [task_done]
    assert notifications_of(world.other_supervisor) == []
    # The creator hears of the step, not of each task (DOMAIN.md §9).
    assert notifications_of(world.creator) == [("process_completed", "工序完成：印刷")]


def test_a_won_claim_shows_on_the_task_object_before_the_commit(db, world):
    """What follows a claim in the same transaction (time log, events, card) reads the task object."""
    task, version = world.task, world.task.version
    tasks.claim(task, world.operator, version)
    assert (task.version, task.operator_id, task.status) == (version + 1, world.operator.id, "pending")
    db.session.rollback()


def backdate_open_period(task, seconds):
    from app.extensions import db

    db.session.execute(update(TimeLog).where(TimeLog.task_id == task.id, TimeLog.ended_at.is_(None))
                       .values(started_at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


def test_each_closed_work_period_adds_its_whole_seconds_to_the_task(db, world):
    task, operator = started(world), world.operator
    assert reload(task).worked_seconds is None  # no period closed yet
    backdate_open_period(task, 300)
    act("pause", task, operator, reason="equipment")
    assert reload(task).worked_seconds == 300
    act("resume", task, operator)
    backdate_open_period(task, 95)
    act("report", task, operator, good=400)  # a report that does not finish keeps the period open
    assert reload(task).worked_seconds == 300
    act("report", task, operator, good=600)
    assert reload(task).worked_seconds == 395
    assert sum(log.duration_seconds for log in db.session.scalars(select(TimeLog).where(TimeLog.task_id == task.id))) \
        == 395


def test_completing_the_last_step_completes_the_work_order_and_notifies_the_creator(db, world):
    started(world)
    act("report", world.task, world.operator, good=1000)
    die_operator = world.outsider
    act("claim", world.die_task, die_operator)
    act("report", world.die_task, die_operator, good=1000)

    work_order = reload(world.work_order)
    assert work_order.status == "completed" and work_order.completed_at is not None
    assert reload(world.die_step).status == "completed"
    assert notifications_of(world.creator) == [("process_completed", "工序完成：印刷"),
                                               ("process_completed", "工序完成：模切"),
                                               ("workorder_completed", "施工单完成：SG2026110001")]
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.object_type == "work_order", AuditLog.action == "complete")) == 1


def snapshot(task):
    from app.extensions import db

    db.session.expire_all()
    row = db.session.get(Task, task.id)
    return (
        row.status, row.version, row.operator_id, row.completed_quantity, row.defective_quantity, row.pause_reason,
        db.session.scalar(select(func.count()).select_from(AuditLog)),
        db.session.scalar(select(func.count()).select_from(TimeLog)),
        db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.ended_at.is_(None))),
        db.session.scalar(select(func.count()).select_from(Notification)),
        reload(task.step).status, reload(task.work_order).status,
    )


def _pause_work_order(world):
    world.work_order.status = "paused"


def _make_draft(world):
    world.work_order.approval_status = "pending"
    world.task.status = "draft"
    world.task.department = None


def _cap_of_one_reached(world):
    f.SettingFactory(key="operator_task_cap", value=1)
    other_step = f.WorkOrderStepFactory(work_order=world.work_order)
    f.TaskFactory(step=other_step, operator=world.operator, department=world.printing, status="pending")


# (name, set-up before the action, action, who, arguments, error type, exact message)
REFUSALS = [
    ("not my task", started, "report", "other_operator", {"good": 5}, Forbidden, "这不是您的任务：只有认领它的操作员、该部门的主管或管理员可以操作"),
    ("not my department", None, "claim", "outsider", {}, Forbidden, "只有该任务所在部门的操作员或主管可以认领此任务"),
    ("claimed by another", claimed, "claim", "other_operator", {}, Conflict, "该任务已被 刘师傅 认领"),
    ("not claimed", None, "start", "operator", {}, Conflict, "任务尚未认领，请先认领"),
    ("not started", claimed, "pause", "operator", {"reason": "equipment"}, Conflict, "任务尚未开始，不能暂停"),
    ("not paused", claimed, "resume", "operator", {}, Conflict, "任务未暂停，不能继续"),
    ("pause without reason", started, "pause", "operator", {"reason": ""}, Invalid, "请选择暂停原因"),
    ("over target", started, "report", "operator", {"good": 1001}, Invalid, "报工后完成数量不能超过目标数量（1000）"),
    ("negative total", started, "report", "operator", {"good": -1, "note": "点错了"}, Invalid, "报工后完成数量不能小于 0"),
    ("correction without reason", lambda w: reported(w, 100), "report", "operator", {"good": -1}, Invalid, "更正（负数）需要在备注中填写原因"),
    ("defects without reason", started, "report", "operator", {"good": 10, "defective": 2}, Invalid,
     "有不良品时请填写不良原因"),
    ("empty report", started, "report", "operator", {"good": 0}, Invalid, "请填写本次完成数量或不良品数量"),
    ("complete early without reason", started, "complete", "operator", {}, Invalid,
     "完成数量未达到目标数量，请填写提前完成的原因"),
    ("cancel by an operator", started, "cancel", "operator", {"reason": "客户取消"}, Forbidden,
     "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"),
    ("cancel without reason", started, "cancel", "supervisor", {"reason": " "}, Invalid, "请填写取消原因"),
    ("paused work order", lambda w: (started(w), _pause_work_order(w)), "report", "operator", {"good": 5}, Conflict,
     "施工单已暂停"),
    ("paused work order claim", _pause_work_order, "claim", "operator", {}, Conflict, "施工单已暂停"),
    ("draft task", _make_draft, "claim", "operator", {}, Conflict, "等待审核：施工单尚未审核通过"),
    ("cap reached", _cap_of_one_reached, "claim", "operator", {}, Conflict, "已达任务上限 1/1"),
    ("stale version", started, "report", "operator", {"good": 5, "version": 1}, Conflict,
     "任务已被其他人更新，请刷新后重试"),
]


@pytest.mark.parametrize("name,setup,action,who,kwargs,error,message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal_has_its_message_and_changes_nothing(db, world, name, setup, action, who, kwargs, error, message):
    if setup:
        setup(world)
        db.session.commit()
    before = snapshot(world.task)
    task = task_reading.get_task(world.task.id)
    kwargs = dict(kwargs)
    with pytest.raises(error) as refused:
        getattr(tasks, action)(task, getattr(world, who), kwargs.pop("version", task.version), **kwargs)
    db.session.rollback()
    assert refused.value.message == message
    assert snapshot(world.task) == before


def test_form_errors_name_the_field(db, world):
    started(world)
    with pytest.raises(Invalid) as refused:
        tasks.report(world.task, world.operator, world.task.version, good=2000, defective=3)
    assert refused.value.fields == {
        "good": "报工后完成数量不能超过目标数量（1000）", "defect_reason": "有不良品时请填写不良原因",
    }


def test_double_taps_are_harmless(db, world):
    task = world.task
    version_seen = task.version
    act("claim", task, world.operator, version=version_seen)
    assert act("claim", task, world.operator, version=version_seen).message == "您已认领该任务"
    version_seen = task.version
    act("start", task, world.operator, version=version_seen)
    assert act("start", task, world.operator, version=version_seen).message == "任务已开始"
    version_seen = task.version
    act("pause", task, world.operator, version=version_seen, reason="material")
    assert act("pause", task, world.operator, version=version_seen, reason="material").message == "任务已暂停"
    version_seen = task.version
    act("resume", task, world.operator, version=version_seen)
    assert act("resume", task, world.operator, version=version_seen).message == "任务已在进行中"
    # A repeated report is NOT harmless to add twice: the stale version refuses it.
    version_seen = task.version
    act("report", task, world.operator, version=version_seen, good=10)
    with pytest.raises(Conflict):
        tasks.report(task, world.operator, version_seen, good=10)
    db.session.rollback()
    assert reload(task).completed_quantity == 10
    assert audit_actions(task) == ["claim", "start", "pause", "resume", "report"]
    assert db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.ended_at.is_(None))) == 1


def test_at_most_one_open_time_log_per_task_and_operator(db, world):
    task = started(world)
    with pytest.raises(IntegrityError):
        db.session.add(TimeLog(task_id=task.id, operator_id=world.operator.id))
        db.session.flush()
    db.session.rollback()
    # The service treats a second open as a harmless repeat.
    task = task_reading.get_task(task.id)
    task_progress._open_time_log(task)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.task_id == task.id)) == 1


def test_first_report_on_a_pending_task_starts_it(db, world):
    task = claimed(world)
    act("report", task, world.operator, good=100)
    assert task.status == "in_progress" and task.started_at is not None
    assert reload(world.print_step).status == "in_progress"
    assert db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.ended_at.is_(None))) == 1


def test_correction_below_target_reopens_a_completed_task_and_its_step(db, world):
    task = started(world)
    act("report", task, world.operator, good=1000)
    assert reload(world.print_step).status == "completed"
    act("report", task, world.operator, good=-50, note="多报了 50")
    assert (task.status, task.completed_quantity, task.completed_at) == ("in_progress", 950, None)
    assert reload(world.print_step).status == "in_progress"
    row = db.session.scalars(select(AuditLog).where(AuditLog.task_id == task.id).order_by(AuditLog.id.desc())).first()
    assert (row.quantity_delta, row.from_status, row.to_status, row.reason) == (-50, "completed", "in_progress", "多报了 50")


def test_notes_never_overwrite_production_requirements(db):
    world = build_world(production_requirements="专色 PANTONE 485C")
    started(world)
    act("report", world.task, world.operator, good=10, note="换了一卷纸")
    assert reload(world.task).production_requirements == "专色 PANTONE 485C"


def test_complete_before_target_with_a_reason_keeps_the_real_quantity(db, world):
    task = started(world)
    act("report", task, world.operator, good=990)
    act("complete", task, world.operator, reason="客户只要 990")
    assert (task.status, task.completed_quantity, task.completion_reason) == ("completed", 990, "客户只要 990")
    assert reload(world.print_step).status == "completed"


def test_cancel_notifies_the_operator_and_an_all_cancelled_step_is_skipped(db, world):
    started(world)
    outcome = act("cancel", world.task, world.supervisor, reason="客户取消印刷")
    assert outcome.message == "任务已取消"
    assert (world.task.status, world.task.cancel_reason) == ("cancelled", "客户取消印刷")
    assert notifications_of(world.operator) == [("task_cancelled", "任务已取消：印刷：彩盒面纸 四色")]
    assert reload(world.print_step).status == "skipped"
    assert db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.ended_at.is_(None))) == 0


def test_a_step_with_one_completed_and_one_cancelled_task_completes(db, world):
    second = f.TaskFactory(step=world.print_step, department=world.printing, number="TSG2026110001-03")
    started(world)
    act("cancel", second, world.admin, reason="合并到第一张")
    assert reload(world.print_step).status == "in_progress"
    act("report", world.task, world.operator, good=1000)
    assert reload(world.print_step).status == "completed"


def test_confirming_a_plate_completes_its_plate_making_tasks_of_approved_work_orders(db, world):
    plate = f.PlateFactory(code="ART2026110001")
    step = f.WorkOrderStepFactory(work_order=world.work_order, sequence=5)
    plate_task = f.TaskFactory(step=step, task_type="plate_making", plate=plate, target_quantity=1,
                               department=world.printing, number="TSG2026110001-04")
    draft_order = f.WorkOrderFactory(approval_status="pending")
    draft_task = f.TaskFactory(step=f.WorkOrderStepFactory(work_order=draft_order), task_type="plate_making",
                               plate=plate, target_quantity=1, status="draft")
    db.session.commit()

    completed = task_auto_complete.complete_plate_tasks(plate, world.admin)
    db.session.commit()
    assert [t.id for t in completed] == [plate_task.id]
    assert (reload(plate_task).status, reload(plate_task).completed_quantity) == ("completed", 1)
    assert reload(draft_task).status == "draft"
    assert reload(step).status == "completed"
    row = db.session.scalars(select(AuditLog).where(AuditLog.task_id == plate_task.id)).one()
    assert (row.action, row.reason) == ("auto_complete", "版已确认：ART2026110001")


def test_material_cut_completes_the_lines_cutting_tasks_with_the_usage_number(db, world):
    line = f.WorkOrderMaterialFactory(work_order=world.work_order, usage="1200张（含损耗）")
    step = f.WorkOrderStepFactory(work_order=world.work_order, sequence=10)
    cutting = f.TaskFactory(step=step, task_type="cutting", material_line=line, target_quantity=1200,
                            department=world.printing, number="TSG2026110001-05")
    db.session.commit()

    assert task_auto_complete.mark_material(line, "ordered", world.admin) == []
    db.session.commit()
    assert reload(line).ordered_at is not None and reload(cutting).status == "pending"
    changed = task_auto_complete.mark_material(line, "cut", world.admin)
    db.session.commit()
    line = reload(line)
    assert [t.id for t in changed] == [cutting.id]
    assert (line.purchase_status, line.received_at is not None, line.cut_at is not None) == ("cut", True, True)
    assert (reload(cutting).status, reload(cutting).completed_quantity) == ("completed", 1200)
    assert audit_actions(cutting) == ["auto_complete"]

    with pytest.raises(Conflict) as refused:
        task_auto_complete.mark_material(line, "ordered", world.admin)
    assert refused.value.message == "采购状态只能向前推进：已开料 → 已下单 不允许"


def test_cut_below_target_records_the_quantity_without_completing(db, world):
    line = f.WorkOrderMaterialFactory(work_order=world.work_order, usage="800张")
    cutting = f.TaskFactory(step=f.WorkOrderStepFactory(work_order=world.work_order), task_type="cutting",
                            material_line=line, target_quantity=1000, department=world.printing)
    db.session.commit()
    task_auto_complete.mark_material(line, "cut", world.admin)
    db.session.commit()
    assert (reload(cutting).status, reload(cutting).completed_quantity) == ("pending", 800)
    assert audit_actions(cutting) == ["auto_report"]


def test_available_actions_follow_the_state(db, world):
    task = world.task
    assert tasks.available_actions(task, world.operator) == (["claim"], None)
    assert tasks.available_actions(task, world.outsider) == ([], None)
    claimed(world)
    assert tasks.available_actions(task, world.operator) == (["start", "report"], None)
    assert tasks.available_actions(task, world.other_operator) == ([], "由 刘师傅 负责")
    assert tasks.available_actions(task, world.supervisor) == (["start", "report", "cancel"], None)
    act("start", task, world.operator)
    assert tasks.available_actions(task, world.operator)[0] == ["report", "pause", "complete"]
    act("pause", task, world.operator, reason="plate")
    assert tasks.available_actions(task, world.operator)[0] == ["resume"]
    world.work_order.status = "paused"
    assert tasks.available_actions(task, world.operator) == ([], "施工单已暂停")


def test_cap_counts_pending_in_progress_and_paused(db, world):
    from app.services.dispatch import capacity

    f.SettingFactory(key="operator_task_cap", value=3)
    for status in ("pending", "in_progress", "paused", "completed", "cancelled"):
        f.TaskFactory(step=world.die_step, operator=world.operator, status=status)
    assert capacity.open_task_count(world.operator.id) == 3
    with pytest.raises(Conflict) as refused:
        capacity.ensure_below_cap(world.operator.id)
    assert refused.value.message == "已达任务上限 3/3"
